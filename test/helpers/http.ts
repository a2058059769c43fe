/** Raw HTTP requests with full control of headers (fetch forbids setting Host). */
import http from 'node:http';

export interface RawResponse<B = string> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: B;
}

type RequestOptions = { method?: string; headers?: Record<string, string>; body?: string };

/** A request answered with the raw bytes of its body (downloads). */
export function requestBytes(port: number, path: string, opts: RequestOptions = {}): Promise<RawResponse<Buffer>> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { Host: `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A request answered with its body decoded as UTF-8 text. */
export async function request(port: number, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const res = await requestBytes(port, path, opts);
  return { ...res, body: res.body.toString('utf8') };
}
