// The deleter's public entry: the re-drive of its dead letters (`trapline deletions redrive`).
export { redriveDeadLetters, type RedriveResult } from './adapters/redrive.ts';
