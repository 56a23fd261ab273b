import { AppError } from '@banyan/errors';

/** Largest stock a product may hold: keeps `stock + delta` inside PostgreSQL's integer. */
export const MAX_STOCK = 1_000_000_000;

export interface Product {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
}

export interface NewProduct {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
}

export type ProductChanges = Partial<Omit<NewProduct, 'stock'>>;

export interface StockItem {
  productId: string;
  quantity: number;
}

/** A reserved line with the unit price it was reserved at (the price the order pays). */
export interface ReservedItem extends StockItem {
  priceCents: number;
}

export const ProductErrors = {
  notFound: (productId?: string) =>
    new AppError('PRODUCTS.NOT_FOUND', 404, 'No product with that id.', productId ? { productId } : {}),
  skuTaken: (sku: string) => new AppError('PRODUCTS.SKU_TAKEN', 409, `A product with SKU "${sku}" already exists.`, { sku }),
  insufficientStock: (productId: string, available: number) =>
    new AppError('PRODUCTS.INSUFFICIENT_STOCK', 409, 'Not enough stock for this change.', { productId, available }),
};
