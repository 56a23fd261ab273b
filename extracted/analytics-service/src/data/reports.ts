/** What the reports answer, whichever definition's tables they are read from. */
export interface DaySales {
  date: string;
  orders: number;
  revenueCents: number;
  /** Customers who registered that day. */
  signups: number;
}

export interface ProductSales {
  productId: string;
  name: string | null;
  quantity: number;
  revenueCents: number;
}
