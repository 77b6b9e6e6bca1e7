/**
 * unix-json.ts: the JSON fields of unix-socket records (family AF_UNIX) and of UNIX_PATH records,
 * shared by decode.ts (the object) and json-line.ts (the text), so the two cannot differ.
 * Addresses are untrusted bytes: they go out only as JSON strings (JSON.stringify escapes controls;
 * escapeJsonControls the C1 ones), decoded as UTF-8 with invalid bytes as U+FFFD.
 */
import { Offset, UNIX_PATH_PIECE, unixTypeName } from './layout';

/** A path id as JSON shows it: 8 hex digits; null when 0 (unbound). */
export function pathIdText(id: number): string | null {
  return id ? id.toString(16).padStart(8, '0') : null;
}

export interface UnixFields {
  type: string;
  path_id: string | null;
  /** The process at the other end; null when not known. */
  peer_pid: number | null;
}

export function unixFields(view: DataView, off: number): UnixFields {
  return {
    type: unixTypeName(view.getUint8(off + Offset.proto)),
    path_id: pathIdText(view.getUint32(off + Offset.path_id, true)),
    peer_pid: view.getUint32(off + Offset.peer_pid, true) || null,
  };
}

export interface PathPiece {
  path_id: string | null;
  /** Where these bytes start in the address, and the address's whole length (bytes). */
  offset: number;
  length: number;
  /** The piece's bytes (an abstract name's first byte is NUL: "\u0000name"). */
  text: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** The bytes of one UNIX_PATH record: up to 32, as many as the address has from `offset`. */
export function pathPieceBytes(view: DataView, off: number): Uint8Array {
  const at = view.getUint32(off + Offset.count, true);
  const length = view.getUint16(off + Offset.lport, true);
  const n = Math.max(0, Math.min(UNIX_PATH_PIECE, length - at));
  return new Uint8Array(view.buffer, view.byteOffset + off + Offset.laddr, n);
}

export function pathPiece(view: DataView, off: number): PathPiece {
  return {
    path_id: pathIdText(view.getUint32(off + Offset.path_id, true)),
    offset: view.getUint32(off + Offset.count, true),
    length: view.getUint16(off + Offset.lport, true),
    text: utf8.decode(pathPieceBytes(view, off)),
  };
}
