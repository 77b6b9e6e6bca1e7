/**
 * users.ts: uid -> user name from /etc/passwd, read once and cached. Unknown uids show as the
 * number, like top does. The passwd text can be injected for tests.
 */
import * as fs from 'fs';

export class UserNames {
  private names: Map<number, string> | undefined;

  constructor(private readonly readPasswd: () => string = () => fs.readFileSync('/etc/passwd', 'utf8')) {}

  name(uid: number): string {
    if (!this.names) this.names = this.load();
    return this.names.get(uid) ?? String(uid);
  }

  private load(): Map<number, string> {
    const names = new Map<number, string>();
    let text = '';
    try {
      text = this.readPasswd();
    } catch {
      return names; // no passwd file (containers): numbers it is
    }
    for (const line of text.split('\n')) {
      const parts = line.split(':');
      if (parts.length < 3) continue;
      const uid = Number(parts[2]);
      if (Number.isInteger(uid) && !names.has(uid)) names.set(uid, parts[0]);
    }
    return names;
  }
}
