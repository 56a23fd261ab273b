/**
 * Card numbers are checked here, at the orders API's edge, so a typo is a 400 before any stock
 * is reserved. (Payments checks again: its door will be a network call.)
 */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
