import { describe, expect, it } from 'vitest';
import {
  compileIdentifiers,
  identifierArgs,
  isIdentifierName,
  looksLikeIdentifier,
} from '../../src/trust/identifiers.js';

describe('identifier arguments', () => {
  it('recognises identifier-like argument names', () => {
    for (const n of [
      'id',
      'repoId',
      'repo_id',
      'userID',
      'iban',
      'recipient_iban',
      'accountNumber',
      'email',
      'to',
      'cc',
      'file_path',
      'url',
      'targetUrl',
      'amount',
      'channel',
      'recipients',
    ]) {
      expect(isIdentifierName(n), n).toBe(true);
    }
    for (const n of [
      'paid',
      'valid',
      'subject',
      'body',
      'message',
      'date',
      'title',
      'recurring',
      'notes',
      'identity_check',
    ]) {
      expect(isIdentifierName(n), n).toBe(false);
    }
  });

  it('recognises identifier-shaped values whatever the name', () => {
    for (const v of [
      'a.b@example.com',
      'https://x.example/y',
      'DE89370400440532013000',
      '123e4567-e89b-12d3-a456-426614174000',
      '+1 (555) 123-4567',
      '/etc/passwd',
      'report.pdf',
      'deadbeefdeadbeef00',
    ]) {
      expect(looksLikeIdentifier(v), v).toBe(true);
    }
    for (const v of [
      'hello world',
      '2024-05-15',
      '2024-05-15 10:00',
      'Lunch',
      '98.7',
      'NO12 apples on the table',
    ]) {
      expect(looksLikeIdentifier(v), v).toBe(false);
    }
  });

  it('follows declared dotted paths through arrays and objects', () => {
    const spec = compileIdentifiers(['recipients', 'attachments[].file_id', 'payment.iban'], true);
    const got = identifierArgs(
      {
        recipients: ['a@x.io', 'b@x.io'],
        attachments: [{ type: 'file', file_id: '19' }, { file_id: '20' }],
        payment: { iban: 'X1', note: 'n' },
        body: 'b',
      },
      spec,
    );
    expect(got).toEqual([
      { path: 'recipients', value: 'a@x.io' },
      { path: 'recipients', value: 'b@x.io' },
      { path: 'attachments.file_id', value: '19' },
      { path: 'attachments.file_id', value: '20' },
      { path: 'payment.iban', value: 'X1' },
    ]);
  });

  it('infers identifiers when none are declared, and none when declared empty', () => {
    const args = {
      repo_id: 42,
      title: 'Fix',
      body: 'see https://x.example/a',
      reviewers: ['c@x.io'],
      draft: true,
    };
    expect(identifierArgs(args, compileIdentifiers(undefined, true)).map((a) => a.path)).toEqual([
      'repo_id',
      'reviewers',
    ]);
    expect(identifierArgs(args, compileIdentifiers([], true))).toEqual([]);
    expect(identifierArgs(args, compileIdentifiers(undefined, false))).toEqual([]);
  });

  it('is bounded on huge and hostile arguments', () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}_id`, `v${i}`]));
    expect(identifierArgs(many, compileIdentifiers(undefined, true)).length).toBe(64);
    let deep: Record<string, unknown> = { id: 'x' };
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    expect(identifierArgs(deep, compileIdentifiers(undefined, true))).toEqual([]);
    expect(looksLikeIdentifier('a'.repeat(100_000))).toBe(false);
    expect(looksLikeIdentifier('a/'.repeat(1000) + ' x')).toBe(false);
  });
});
