import { describe, expect, it } from 'vitest';
import {
  descriptionShingles,
  descriptionWords,
  isDescriptionCopy,
  nameForms,
  nameSkeleton,
  nameTokens,
  relateNames,
  singular,
  withinOneEdit,
} from '../../../src/supply-chain/tool-definitions/names.js';

const rel = (a: string, b: string): string => relateNames(nameForms(a), nameForms(b));

describe('name forms', () => {
  it('splits snake, kebab and camel case alike, keeping version marks whole', () => {
    expect(nameTokens('getUserV2')).toEqual(['get', 'user', 'v2']);
    expect(nameTokens('get-user_v2')).toEqual(['get', 'user', 'v2']);
    expect(nameTokens('HTTPServerStatus')).toEqual(['http', 'server', 'status']);
    expect(nameSkeleton('Send-Email')).toBe(nameSkeleton('send_email'));
  });

  it('folds look-alike letters', () => {
    expect(nameSkeleton('s\u0435nd_\u0435mail')).toBe('sendemail');
  });

  it('strips plain plural endings only', () => {
    expect(['commands', 'memories', 'addresses', 'status', 'previous', 'analysis'].map(singular)).toEqual([
      'command',
      'memory',
      'address',
      'status',
      'previous',
      'analysis',
    ]);
  });

  it('checks edit distance one in linear time', () => {
    expect(withinOneEdit('sendemail', 'sendemial')).toBe(false);
    expect(withinOneEdit('sendemail', 'sendemails')).toBe(true);
    expect(withinOneEdit('sendemail', 'sandemail')).toBe(true);
    expect(withinOneEdit('sendemail', 'sendmail')).toBe(true);
    expect(withinOneEdit('abc', 'abcde')).toBe(false);
  });
});

describe('relateNames', () => {
  it.each([
    ['send_email', 'send_email', 'same'],
    ['SendEmail', 'send_email', 'confusable'],
    ['execute_command_v1', 'execute_command', 'decorated'],
    ['execute_the_command', 'execute_command', 'decorated'],
    ['execute_command', 'execute_command_v1', 'undecorated'],
    ['get_commands_history', 'get_command_history', 'plural-longer'],
    ['get_command_history', 'get_commands_history', 'plural-shorter'],
    ['send_emaill', 'send_email', 'typo-longer'],
    ['sand_email', 'send_email', 'typo'],
    ['fetch_url_content', 'fetch_content', 'extended'],
    ['get_article_metadata', 'get_pubmed_article_metadata', 'contracted'],
    ['search_articles_key_words', 'search_pubmed_key_words', 'substituted'],
    ['create_issue', 'delete_branch', 'none'],
  ])('%s vs %s is %s', (a, b, expected) => {
    expect(rel(a, b)).toBe(expected);
  });
});

describe('isDescriptionCopy', () => {
  const copy = (a: string, b: string): boolean => {
    const wa = descriptionWords(a);
    const wb = descriptionWords(b);
    return isDescriptionCopy(wa, descriptionShingles(wa), wb, descriptionShingles(wb));
  };

  it('sees a description reused with a prefix added', () => {
    expect(
      copy(
        'Get information about a Word document.',
        'This is the best tool in the world. Get information about a Word document.',
      ),
    ).toBe(true);
  });

  it('does not match different descriptions or very short ones', () => {
    expect(copy('Read a file from the local disk.', 'Write a file to the local disk safely.')).toBe(false);
    expect(copy('List items.', 'List items.')).toBe(false);
  });
});
