// Writes a brotli (.br, quality 11) and a gzip (.gz, level 9) copy beside every file of
// the release bundle, once at build time, so the server sends the smallest encoding
// without compressing on each request (`qline serve` prefers them; a bundle without
// them is compressed on the fly). Usage: node .ci/precompress.mjs target/site/pkg
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node .ci/precompress.mjs DIR");
  process.exit(2);
}
const names = readdirSync(dir);
for (const name of names) {
  const path = join(dir, name);
  if (/\.(br|gz)$/.test(name)) {
    // A copy whose original a later build replaced.
    if (!names.includes(name.slice(0, -3))) rmSync(path);
    continue;
  }
  if (!statSync(path).isFile() || /\.d\.[^.]+\.ts$|\.d\.ts$/.test(name)) continue;
  const body = readFileSync(path);
  const br = brotliCompressSync(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
  console.log(`${name}: ${body.length} bytes, brotli ${br.length}`);
}
