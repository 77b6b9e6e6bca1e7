/**
 * unix-paths.ts: the table path_id -> unix socket address, filled from UNIX_PATH records (each
 * carries up to 32 bytes of one address). The text is untrusted: it is shown through showText()
 * (controls escaped); an abstract name (first byte NUL) is written "@name", as ss does.
 */
import { Offset } from '../capture/layout';
import { pathPieceBytes } from '../capture/unix-json';

const MAX_PATHS = 16384;
const utf8 = new TextDecoder('utf-8', { fatal: false });

interface Pending {
  bytes: Uint8Array;
  have: number;
}

export class UnixPathTable {
  private readonly paths = new Map<number, string>();
  private readonly pending = new Map<number, Pending>();

  ingest(view: DataView, off: number): void {
    const id = view.getUint32(off + Offset.path_id, true);
    const length = view.getUint16(off + Offset.lport, true);
    const at = view.getUint32(off + Offset.count, true);
    if (id === 0 || length === 0 || length > 108 || at >= length) return;
    const piece = pathPieceBytes(view, off);
    let p = this.pending.get(id);
    if (!p || p.bytes.length !== length) {
      p = { bytes: new Uint8Array(length), have: 0 };
      this.pending.set(id, p);
    }
    p.bytes.set(piece, at);
    p.have += piece.length;
    if (p.have < length) return;
    this.pending.delete(id);
    if (this.paths.size >= MAX_PATHS) this.paths.delete(this.paths.keys().next().value as number);
    this.paths.set(id, addressText(p.bytes));
  }

  /** The address (raw: escape before showing), or undefined when its bytes were not seen. */
  get(id: number): string | undefined {
    return this.paths.get(id);
  }
}

/** An address's bytes as text: an abstract name's leading NUL as '@'. */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length > 0 && bytes[0] === 0) return `@${utf8.decode(bytes.subarray(1))}`;
  return utf8.decode(bytes);
}
