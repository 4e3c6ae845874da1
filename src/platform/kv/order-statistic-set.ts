/**
 * A treap (randomized balanced BST) ordered like a Redis sorted set: by score, then by member
 * (code-unit order). Each node keeps its subtree size so rank and select-by-rank are O(log n); the
 * in-process rank store builds its ranks on it (the in-process key/value store has no sorted sets).
 */
interface Node {
  score: number;
  member: string;
  priority: number;
  size: number;
  left: Node | null;
  right: Node | null;
}

function cmp(aScore: number, aMember: string, b: Node): number {
  if (aScore !== b.score) return aScore < b.score ? -1 : 1;
  return aMember === b.member ? 0 : aMember < b.member ? -1 : 1;
}

const size = (n: Node | null): number => (n ? n.size : 0);
const fix = (n: Node): Node => {
  n.size = 1 + size(n.left) + size(n.right);
  return n;
};

/** Splits into (< key, >= key). */
function split(n: Node | null, score: number, member: string): [Node | null, Node | null] {
  if (!n) return [null, null];
  if (cmp(score, member, n) > 0) {
    const [l, r] = split(n.right, score, member);
    n.right = l;
    return [fix(n), r];
  }
  const [l, r] = split(n.left, score, member);
  n.left = r;
  return [l, fix(n)];
}

function merge(a: Node | null, b: Node | null): Node | null {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return fix(a);
  }
  b.left = merge(a, b.left);
  return fix(b);
}

export class OrderStatisticSet {
  private root: Node | null = null;

  get size(): number {
    return size(this.root);
  }

  /** The caller guarantees (score, member) is not present (it tracks member -> score itself). */
  insert(score: number, member: string): void {
    const node: Node = { score, member, priority: Math.random(), size: 1, left: null, right: null };
    const [l, r] = split(this.root, score, member);
    this.root = merge(merge(l, node), r);
  }

  remove(score: number, member: string): boolean {
    const [l, r] = split(this.root, score, member);
    // r starts with the key if present: peel off its minimum when it matches.
    let removed = false;
    const dropMin = (n: Node | null): Node | null => {
      if (!n) return null;
      if (n.left) {
        n.left = dropMin(n.left);
        return fix(n);
      }
      if (cmp(score, member, n) === 0) {
        removed = true;
        return n.right;
      }
      return n;
    };
    this.root = merge(l, dropMin(r));
    return removed;
  }

  /** 0-based ascending rank of an entry known to be present, or null. */
  rank(score: number, member: string): number | null {
    let n = this.root;
    let rank = 0;
    while (n) {
      const c = cmp(score, member, n);
      if (c === 0) return rank + size(n.left);
      if (c < 0) n = n.left;
      else {
        rank += size(n.left) + 1;
        n = n.right;
      }
    }
    return null;
  }

  /** The entry at 0-based ascending rank i. */
  at(i: number): { member: string; score: number } | null {
    let n = this.root;
    while (n) {
      const l = size(n.left);
      if (i < l) n = n.left;
      else if (i === l) return { member: n.member, score: n.score };
      else {
        i -= l + 1;
        n = n.right;
      }
    }
    return null;
  }
}
