// `npm run build`, after tsc: the web page of `hardy-mer serve` bundled into dist/serve/page/
// (index.html, style.css, app.js and its chunk), so the package needs no esbuild at run time.
// Runs under tsx (a development dependency, like esbuild): the bundle is made from src/.
const { writePageBundle } = await import('../src/serve/page-bundle.ts');
await writePageBundle(new URL('../dist/serve/page/', import.meta.url).pathname);
