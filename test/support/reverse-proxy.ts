import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy in front of a Haven, as nginx with `proxy_set_header X-Forwarded-For
 * $proxy_add_x_forwarded_for` is: it forwards each request and appends the address its client
 * connected from to whatever X-Forwarded-For the client sent (which a client may forge).
 */
export type ReverseProxy = { url: string; port: number; close(): Promise<void> };

export async function startReverseProxy(upstreamPort: number): Promise<ReverseProxy> {
  const server = http.createServer((req, res) => {
    const sent = req.headers['x-forwarded-for'];
    const forwardedFor = [sent, req.socket.remoteAddress].filter(Boolean).join(', ');
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-for': forwardedFor }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; text: string };

/** One HTTP request from a chosen local address (127.0.0.2, 127.0.0.3…: all of 127/8 is loopback on Linux). */
export function requestFrom(localAddress: string, url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // agent: false, one connection per request: no kept-alive socket outlives the test.
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
