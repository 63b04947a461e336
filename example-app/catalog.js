// The shop's products. Prices are whole paisa (Rs 1 = 100 paisa): never floats of rupees.

/** @type {ReadonlyArray<{ id: string, name: string, pricePaisa: number, description: string }>} */
const PRODUCTS = Object.freeze([
  { id: 'chiya', name: 'Ilam tea, 250 g', pricePaisa: 45_000, description: 'First-flush orthodox tea from Ilam.' },
  { id: 'dhaka-topi', name: 'Dhaka topi', pricePaisa: 120_000, description: 'Hand-woven Palpali dhaka cap.' },
  { id: 'momo-masala', name: 'Momo masala', pricePaisa: 1_500, description: 'The spice mix behind a good achar.' },
]);

/** @param {string} id */
function findProduct(id) {
  return PRODUCTS.find((product) => product.id === id) ?? null;
}

/** Paisa → "Rs 1,200.00". */
function rupees(paisa) {
  return `Rs ${(paisa / 100).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

module.exports = { PRODUCTS, findProduct, rupees };
