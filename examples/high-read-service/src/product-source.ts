/** A stand-in for a database: every read takes `latencyMs`, and it counts how often it was asked. */
export class ProductSource {
  readonly #products = new Map<string, { id: string; name: string; price: number }>();
  readonly #latencyMs: number;
  reads = 0;

  constructor(count: number, latencyMs: number) {
    this.#latencyMs = latencyMs;
    for (let i = 0; i < count; i++)
      this.#products.set(String(i), { id: String(i), name: `Product ${i}`, price: 100 + i });
  }

  async load(id: string): Promise<string | null> {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
    const product = this.#products.get(id);
    return product ? JSON.stringify(product) : null;
  }

  async update(id: string, price: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
    const product = this.#products.get(id);
    if (product) product.price = price;
  }
}
