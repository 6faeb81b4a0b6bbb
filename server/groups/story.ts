import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * A group's story is Markdown written by its members. marked turns it into HTML and
 * sanitize-html keeps a small allow-list (no raw HTML, scripts, styles, images or iframes), so
 * the result can be placed in a page with {{{ }}}. It runs when a story is saved (the group's
 * application, its page form) and the result is kept in sponsor_groups.story_html, so no page
 * renders Markdown per request.
 */
/** The longest story a group (or staff, for a group) may write, in each language. */
export const STORY_MAX = 10_000;

const marked = new Marked({ gfm: true, breaks: false, async: false });

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'strong', 'em', 'ul', 'ol', 'li', 'blockquote', 'a', 'h2', 'h3', 'h4', 'hr', 'code', 'pre'],
  allowedAttributes: { a: ['href'] },
  allowedSchemes: ['https', 'http', 'mailto'],
  transformTags: {
    h1: 'h2',
    a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow noopener noreferrer' }),
  },
  disallowedTagsMode: 'discard',
};
ALLOWED.allowedAttributes = { a: ['href', 'rel'] };

export function renderStory(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return sanitizeHtml(html, ALLOWED);
}

/** Entities sanitize-html leaves in text (it escapes these five). */
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * A story's first sentence as plain text, at most `max` characters (cut at a word, with "…"), for
 * a page's share description: from the stored HTML, so it says nothing the page does not
 * ('' for an empty story).
 */
export function storyExcerpt(storyHtml: string, max = 160): string {
  // Headings are titles, not sentences: the excerpt starts with the first paragraph's words.
  const body = storyHtml.replace(/<(h[234])>[\s\S]*?<\/\1>/g, ' ').replace(/<\/(p|li|blockquote|pre)>/g, '$& ');
  const text = sanitizeHtml(body, { allowedTags: [], allowedAttributes: {} })
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity)
    .replace(/\s+/g, ' ')
    .trim();
  const sentence = /^.+?[.!?。](?=\s|$)/u.exec(text)?.[0] ?? text;
  if (sentence.length <= max) return sentence;
  const cut = sentence.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,;:]+$/, '')}…`;
}
