// Small PDFs written by hand for the viewer and share page tests.

/**
 * A PDF of 300 × 400 pt pages, one content stream each, with Helvetica as /F1. No xref table:
 * pdf.js finds the objects by scanning. `catalog` adds entries to the catalog; the `extra`
 * objects are numbered from 4 + 2 × pages on.
 */
export function pdfOf(contents: string[], catalog = '', extra: string[] = []): string {
  const objects = [
    `<</Type/Catalog/Pages 2 0 R${catalog}>>`,
    `<</Type/Pages/Kids[${contents.map((_, i) => `${4 + 2 * i} 0 R`).join(' ')}]/Count ${contents.length}>>`,
    '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
    ...contents.flatMap((stream, i) => [
      `<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 400]/Contents ${5 + 2 * i} 0 R/Resources<</Font<</F1 3 0 R>>>>>>`,
      `<</Length ${stream.length}>>stream\n${stream}\nendstream`,
    ]),
    ...extra,
  ];
  return ['%PDF-1.4', ...objects.map((body, i) => `${i + 1} 0 obj ${body} endobj`)]
    .concat('trailer<</Root 1 0 R>>', '')
    .join('\n');
}

/** A line of 24 pt text whose baseline starts 40 pt from the left and 300 pt up. */
export const line = (text: string) => `BT /F1 24 Tf 40 300 Td (${text}) Tj ET`;
