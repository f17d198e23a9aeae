import type { PDFDocumentProxy } from 'pdfjs-dist';

type PdfJs = typeof import('pdfjs-dist');

/** Pages laid out at most; past that the preview says to download the file. */
export const MAX_PAGES = 2000;
/**
 * One page's canvas at most: pixels (pdf.js's viewer uses the same bound) and the longest side
 * Chromium draws. A page far taller than wide, which a hostile PDF may declare, is drawn coarser
 * rather than not at all, and never asks the tab for gigabytes.
 */
const MAX_CANVAS_PIXELS = 2 ** 25;
const MAX_CANVAS_SIDE = 32_767;
/** Text layers kept at most, the most recently drawn: a long dense document stays light. */
const MAX_TEXT_LAYERS = 50;
/**
 * Characters of page text kept for searching again: a document crammed with text (hostile or not)
 * is read again at each search past this, instead of held in memory whole.
 */
const MAX_KEPT_TEXT = 16 * 1024 * 1024;

/**
 * Lays out every page of a PDF as an empty sheet of its size and draws a page only while it is
 * within a screen or so of the view: a 500-page manual opens as fast as a one-page letter, and
 * holds a few pages' pixels instead of all of them (a page is ~4 MB of canvas at 1,000 px wide on
 * a 2× screen). Text layers stay for the last 50 pages drawn, so the browser's Find keeps finding
 * what was just seen; `find` reads every page's text for the preview's own search.
 */
export class PdfPages {
  readonly #sheets: HTMLDivElement[] = [];
  /** Pages whose sheet is in or near the view. */
  readonly #near = new Set<number>();
  readonly #drawn = new Map<number, HTMLCanvasElement>();
  /** Pages pdf.js could not read (a document may declare more pages than it holds). */
  readonly #broken = new Set<number>();
  /** Pages with a text layer, least recently drawn first. */
  readonly #texts = new Map<number, HTMLElement>();
  /** Each page's text in lower case, read once when a search first needs it. */
  readonly #plain = new Map<number, string>();
  #plainKept = 0;
  /** What `find` looked for last: marked in every text layer, now and when drawn. */
  #query = '';
  readonly #observer: IntersectionObserver;
  #drawing = false;
  #stopped = false;

  constructor(
    readonly pdfjs: PdfJs,
    readonly doc: PDFDocumentProxy,
    /** The box that scrolls; "near" is within one and a half of its heights. */
    readonly scroller: HTMLElement,
    into: HTMLElement,
    /** CSS pixels a page is drawn wide. */
    readonly width: number,
    /** Page 1's size at scale 1: every sheet's size until its own page is read. */
    first: { width: number; height: number },
    /** After each page is drawn (n: its number). */
    readonly onDrawn: (n: number) => void,
  ) {
    const count = Math.min(doc.numPages, MAX_PAGES);
    const height = (first.height * width) / first.width;
    for (let n = 1; n <= count; n++) {
      const sheet = document.createElement('div');
      sheet.className = 'sheet';
      sheet.dataset.sheet = String(n);
      sheet.setAttribute('role', 'group');
      sheet.setAttribute('aria-label', `Page ${n} of ${doc.numPages}`);
      sheet.style.width = `${width}px`;
      sheet.style.height = `${height}px`;
      this.#sheets.push(sheet);
    }
    into.append(...this.#sheets);
    this.#observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const n = Number((e.target as HTMLElement).dataset.sheet);
          if (e.isIntersecting) this.#near.add(n);
          else this.#near.delete(n);
        }
        void this.#draw();
      },
      { root: scroller, rootMargin: '150% 0px' },
    );
    for (const sheet of this.#sheets) this.#observer.observe(sheet);
  }

  /** The page at the middle of the scrolling box's view (1 when there is none yet). */
  pageInView(): number {
    const box = this.scroller.getBoundingClientRect();
    const middle = box.top + box.height / 2;
    // Sheets go down the box in order: the last one starting above the middle holds it.
    let [lo, hi] = [0, this.#sheets.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#sheets[mid]!.getBoundingClientRect().top <= middle) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** Scrolls the box so that page `n` starts at the top of its view. */
  scrollTo(n: number): void {
    const sheet = this.#sheets[n - 1];
    if (!sheet) return;
    this.scroller.scrollTop +=
      sheet.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top - 16;
  }

  /**
   * The first page from `from` on, wrapping around, whose text holds `query` (ignoring case), or
   * null. Reads the text of pages never drawn (once each), so it finds what the browser's Find,
   * which sees only the text layers made so far, cannot; the runs holding it are marked.
   */
  async find(query: string, from: number): Promise<number | null> {
    this.highlight(query);
    if (!this.#query) return null;
    const count = this.#sheets.length;
    for (let i = 0; i < count; i++) {
      const n = ((from - 1 + i + count) % count) + 1;
      if ((await this.#plainText(n)).includes(this.#query)) return n;
      if (this.#stopped) return null;
    }
    return null;
  }

  /** Marks the runs holding `query` in every text layer, now and as pages are drawn. */
  highlight(query: string): void {
    this.#query = query.trim().toLowerCase();
    for (const layer of this.#texts.values()) this.#mark(layer);
  }

  async #plainText(n: number): Promise<string> {
    let text = this.#plain.get(n);
    if (text !== undefined) return text;
    const content = await this.doc
      .getPage(n)
      .then((page) => page.getTextContent())
      .catch(() => null);
    // Runs of one line follow each other; a line's end is a space, so words of two lines stay two.
    text = (content?.items ?? [])
      .map((item) => ('str' in item ? item.str + (item.hasEOL ? ' ' : '') : ''))
      .join('')
      .toLowerCase();
    if (this.#plainKept + text.length <= MAX_KEPT_TEXT) {
      this.#plain.set(n, text);
      this.#plainKept += text.length;
    }
    return text;
  }

  /** Marks the runs of a text layer that hold the query (a whole run: they are short). */
  #mark(layer: HTMLElement): void {
    for (const run of layer.querySelectorAll('span')) {
      const hit =
        !!this.#query &&
        !run.classList.contains('markedContent') &&
        (run.textContent ?? '').toLowerCase().includes(this.#query);
      run.classList.toggle('hit', hit);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#observer.disconnect();
  }

  /** One page at a time, nearest the top first; pages that left the view lose their pixels. */
  async #draw(): Promise<void> {
    if (this.#drawing) return;
    this.#drawing = true;
    try {
      while (!this.#stopped) {
        for (const [n, canvas] of this.#drawn) {
          if (this.#near.has(n)) continue;
          canvas.width = 0; // frees its pixels now, not when the collector gets to it
          canvas.remove();
          this.#drawn.delete(n);
        }
        const next = [...this.#near]
          .sort((a, b) => a - b)
          .find((n) => !this.#drawn.has(n) && !this.#broken.has(n));
        if (next === undefined) break;
        await this.#drawPage(next);
      }
    } finally {
      this.#drawing = false;
    }
  }

  async #drawPage(n: number): Promise<void> {
    const sheet = this.#sheets[n - 1]!;
    const page = await this.doc.getPage(n).catch(() => null);
    if (!page) {
      // It stays an empty sheet, and is not asked for again.
      this.#broken.add(n);
      return;
    }
    if (this.#stopped) return;
    const shown = page.getViewport({ scale: this.width / page.getViewport({ scale: 1 }).width });
    const ratio = Math.min(
      window.devicePixelRatio || 1,
      Math.sqrt(MAX_CANVAS_PIXELS / (shown.width * shown.height)),
      MAX_CANVAS_SIDE / Math.max(shown.width, shown.height),
    );
    const viewport = page.getViewport({ scale: shown.scale * ratio });
    sheet.style.height = `${shown.height}px`;
    sheet.style.setProperty('--total-scale-factor', String(shown.scale));
    const canvas = document.createElement('canvas');
    canvas.width = Math.floor(viewport.width);
    canvas.height = Math.floor(viewport.height);
    canvas.dataset.page = String(n);
    sheet.prepend(canvas);
    this.#drawn.set(n, canvas);
    // A page that failed to draw stays an empty sheet; the others still show.
    await page
      .render({ canvas, viewport })
      .promise.catch(() => undefined)
      .then(() => this.onDrawn(n));
    const kept = this.#texts.get(n);
    if (kept) {
      this.#texts.delete(n);
      this.#texts.set(n, kept); // most recently drawn last
      return;
    }
    if (this.#stopped) return;
    const text = document.createElement('div');
    text.className = 'text-layer';
    text.dataset.testid = 'pdf-text';
    sheet.append(text);
    this.#texts.set(n, text);
    for (const [old, layer] of this.#texts) {
      if (this.#texts.size <= MAX_TEXT_LAYERS) break;
      layer.remove();
      this.#texts.delete(old);
    }
    // A page without text, or text pdf.js cannot read, still shows as drawn.
    await new this.pdfjs.TextLayer({
      textContentSource: page.streamTextContent(),
      container: text,
      viewport: shown,
    })
      .render()
      .catch(() => undefined);
    if (this.#query) this.#mark(text);
  }
}
