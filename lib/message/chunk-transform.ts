/**
 * Runs a stream of chunks through a push/end transformer (base64, CRLF normalisation): what
 * each `push` returns is yielded, then what `end` flushes. Empty output chunks are skipped.
 * Invariant: the concatenation of the output is the transformer's output for the concatenated
 * input, whatever the chunking.
 * @module
 */

/** A stateful byte transformer: output for each chunk, then the rest at the end. */
export interface ChunkTransformer {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

/**
 * Drives `t` over `source`.
 * @example for await (const c of transformChunks(chunks, new CrlfNormalizer())) write(c);
 */
export async function* transformChunks(source: AsyncIterable<Uint8Array>, t: ChunkTransformer): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const out = t.push(chunk);
    if (out.length > 0) yield out;
  }
  const tail = t.end();
  if (tail.length > 0) yield tail;
}
