// A console's command history: per server, kept in sessionStorage (it
// lasts as long as the tab), at most 100 commands, no command twice in a
// row. Up and Down walk it like a shell's: Up from the prompt remembers
// what was being typed, and Down past the newest brings it back.

export const HISTORY_MAX = 100;

export class CommandHistory {
  private readonly key: string;
  private readonly storage: Storage;
  private items: string[];
  // The entry shown; items.length is the prompt (the draft).
  private pos: number;
  private draft = "";

  constructor(serverId: string, storage: Storage = sessionStorage) {
    this.key = `catalyst.console-history.${serverId}`;
    this.storage = storage;
    this.items = load(storage, this.key);
    this.pos = this.items.length;
  }

  /** entries are the commands, oldest first. */
  get entries(): readonly string[] {
    return this.items;
  }

  /** push records a command sent and returns to the prompt. */
  push(command: string): void {
    if (command.trim() !== "" && this.items[this.items.length - 1] !== command) {
      this.items.push(command);
      if (this.items.length > HISTORY_MAX) this.items.splice(0, this.items.length - HISTORY_MAX);
      try {
        this.storage.setItem(this.key, JSON.stringify(this.items));
      } catch {
        // Storage full or refused: the history lives on in memory.
      }
    }
    this.pos = this.items.length;
    this.draft = "";
  }

  /** up returns the previous command, or undefined at the oldest;
   * current is what the input holds. */
  up(current: string): string | undefined {
    if (this.pos === 0) return undefined;
    if (this.pos === this.items.length) this.draft = current;
    this.pos--;
    return this.items[this.pos];
  }

  /** down returns the next command, the draft past the newest, or
   * undefined at the prompt already. */
  down(): string | undefined {
    if (this.pos >= this.items.length) return undefined;
    this.pos++;
    return this.pos === this.items.length ? this.draft : this.items[this.pos];
  }
}

function load(storage: Storage, key: string): string[] {
  try {
    const v = JSON.parse(storage.getItem(key) ?? "[]");
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(-HISTORY_MAX) : [];
  } catch {
    return [];
  }
}
