/**
 * Links that share a group's public page: e-mail, Facebook, X and WhatsApp, each a plain link
 * (no third-party script or pixel: the page loads nothing from them until a visitor clicks), and
 * the address itself for the copy-link button (public/copy-link.js).
 */
export type ShareLinks = { url: string; email: string; facebook: string; x: string; whatsapp: string };

export function shareLinks(url: string, title: string, description: string): ShareLinks {
  const u = encodeURIComponent(url);
  return {
    url,
    email: `mailto:?subject=${encodeURIComponent(title)}&body=${encodeURIComponent(`${description}\n\n${url}`)}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?u=${u}`,
    x: `https://x.com/intent/tweet?url=${u}&text=${encodeURIComponent(title)}`,
    whatsapp: `https://wa.me/?text=${encodeURIComponent(`${title} ${url}`)}`,
  };
}
