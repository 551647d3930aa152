/**
 * Every item of a list the API serves in pages, one page requested at a time as the caller
 * iterates: `for await (const batch of c2m.factory.batches({ status: 'RELEASED' }))`. A page is
 * asked for only when the previous one is used up; stopping early asks for no more.
 */
export class Paged<T> implements AsyncIterable<T> {
  readonly #pages: () => AsyncGenerator<readonly T[]>;

  /** `next(position)` fetches the page at `position` (undefined for the first) and says where the one after it starts. */
  constructor(next: (position: string | undefined) => Promise<{ items: readonly T[]; next?: string | undefined }>, describe: string) {
    this.#pages = async function* () {
      let position: string | undefined;
      const seen = new Set<string>();
      for (;;) {
        const page = await next(position);
        yield page.items;
        if (page.next === undefined || page.next === '') return;
        // A position served twice would loop forever: say so instead.
        if (seen.has(page.next)) throw new Error(`${describe}: the API answered with the same page position twice (${page.next})`);
        seen.add(page.next);
        position = page.next;
      }
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.#pages()) yield* page;
  }

  /** The items page by page, as the API sent them. */
  pages(): AsyncIterable<readonly T[]> {
    return this.#pages();
  }

  /** Every item, in order (reads every page first: for lists known to be small). */
  async all(): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.#pages()) items.push(...page);
    return items;
  }
}
