// Child process for the hostile-pickle test: loads each pickle given on the command line with the
// project's reader (from whatever cwd the parent chose) and prints one JSON line per file.
// With --corpus <dir>, also loads that folder through loadCorpus (the path a user's command takes).
import { readPickle } from '../../src/data/formats/pickle.ts';
import { loadCorpus } from '../../src/data/load.ts';

const args = process.argv.slice(2);
const corpusAt = args.indexOf('--corpus');
const corpus = corpusAt >= 0 ? args.splice(corpusAt, 2)[1] : undefined;
const attempt = (what: string, f: () => unknown): void => {
  try {
    f();
    console.log(JSON.stringify({ what, loaded: true }));
  } catch (err) {
    const e = err as Error;
    console.log(JSON.stringify({ what, loaded: false, name: e.name, message: e.message }));
  }
};
for (const file of args) attempt(file, () => readPickle(file));
if (corpus) attempt(corpus, () => loadCorpus(corpus));
