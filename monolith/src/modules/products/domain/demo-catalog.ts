import type { NewProduct } from './product';

/** A small, believable shop for `npm run seed` and demos. */
export const DEMO_CATALOG: NewProduct[] = [
  { sku: 'MUG-CER-350', name: 'Ceramic Mug 350 ml', description: 'Stoneware mug with a matte glaze, dishwasher safe.', priceCents: 1290, stock: 120 },
  { sku: 'TEA-SEN-100', name: 'Sencha Green Tea 100 g', description: 'Loose-leaf first-flush sencha from Shizuoka.', priceCents: 1450, stock: 80 },
  { sku: 'COF-ETH-250', name: 'Ethiopia Yirgacheffe 250 g', description: 'Light roast whole beans, notes of bergamot and peach.', priceCents: 1690, stock: 60 },
  { sku: 'KET-GOO-1L', name: 'Gooseneck Kettle 1 L', description: 'Stainless steel pour-over kettle with a thermometer.', priceCents: 4900, stock: 25 },
  { sku: 'GRD-HND-01', name: 'Hand Coffee Grinder', description: 'Conical ceramic burrs, adjustable grind size.', priceCents: 3900, stock: 30 },
  { sku: 'NTB-A5-DOT', name: 'A5 Dotted Notebook', description: '192 pages of 100 g/m² paper, lay-flat binding.', priceCents: 1800, stock: 200 },
  { sku: 'PEN-FTN-F', name: 'Fountain Pen, Fine Nib', description: 'Aluminium body, converter and two cartridges included.', priceCents: 3450, stock: 40 },
  { sku: 'INK-BLU-50', name: 'Blue-Black Ink 50 ml', description: 'Water-resistant iron-gall style ink.', priceCents: 1200, stock: 75 },
  { sku: 'BAG-TOTE-CNV', name: 'Canvas Tote Bag', description: 'Heavy 12 oz cotton canvas with an inner pocket.', priceCents: 2200, stock: 150 },
  { sku: 'BTL-STL-750', name: 'Insulated Bottle 750 ml', description: 'Keeps drinks cold for 24 hours, hot for 12.', priceCents: 2950, stock: 90 },
  { sku: 'LMP-DSK-LED', name: 'LED Desk Lamp', description: 'Dimmable, three colour temperatures, USB-C powered.', priceCents: 5900, stock: 35 },
  { sku: 'KBD-MEC-TKL', name: 'Mechanical Keyboard TKL', description: 'Tenkeyless, hot-swappable switches, PBT keycaps.', priceCents: 11900, stock: 20 },
  { sku: 'MSE-WRL-01', name: 'Wireless Mouse', description: 'Silent clicks, 18-month battery life.', priceCents: 2900, stock: 70 },
  { sku: 'HDP-OVR-BT', name: 'Over-Ear Headphones', description: 'Bluetooth 5.3, active noise cancelling, 30 h battery.', priceCents: 14900, stock: 15 },
  { sku: 'CBL-USBC-2M', name: 'USB-C Cable 2 m', description: 'Braided, 100 W power delivery, 10 Gbit/s.', priceCents: 1500, stock: 300 },
  { sku: 'PLT-MON-SM', name: 'Monstera Plant, Small', description: 'In a 12 cm nursery pot; easy care.', priceCents: 2400, stock: 18 },
  { sku: 'CND-SOY-CED', name: 'Cedarwood Soy Candle', description: '40-hour burn, cotton wick, recycled glass jar.', priceCents: 1950, stock: 55 },
  { sku: 'BLK-WOOL-TH', name: 'Merino Wool Throw', description: '130 × 170 cm, woven in Portugal.', priceCents: 8900, stock: 12 },
  { sku: 'SCK-CTN-3P', name: 'Cotton Socks, 3 Pairs', description: 'Organic cotton, reinforced heel and toe.', priceCents: 1600, stock: 250 },
  { sku: 'UMB-CMP-BLK', name: 'Compact Umbrella', description: 'Automatic open and close, wind-resistant frame.', priceCents: 2700, stock: 45 },
  { sku: 'BK-STRANG-FIG', name: 'Refactoring Legacy Systems (paperback)', description: 'A field guide to incremental migrations.', priceCents: 3900, stock: 40 },
  { sku: 'PZL-1000-MAP', name: 'Jigsaw Puzzle, 1000 Pieces', description: 'An antique world map, 68 × 48 cm finished.', priceCents: 2300, stock: 28 },
  { sku: 'CHO-DRK-70', name: 'Dark Chocolate 70 %', description: 'Single-origin bar, 80 g.', priceCents: 450, stock: 400 },
  { sku: 'SPK-MINI-BT', name: 'Mini Bluetooth Speaker', description: 'Water resistant (IP67), 12 h playback.', priceCents: 4500, stock: 22 },
];
