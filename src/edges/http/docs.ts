/**
 * @module `GET /docs`: the API description rendered by Swagger UI, served from the installed
 * swagger-ui-dist package (no CDN), under a CSP that allows only this origin. Files are read on
 * first request and kept, compressed once per coding like every fixed body.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { HttpResponse } from 'uWebSockets.js'
import type { HeaderPair } from '../../protocol/headers.js'
import type { Router } from './route.js'
import { StaticBody } from './static-body.js'

/**
 * Like the dashboard's: this origin only, data: images (Swagger UI's icons). Swagger UI sets
 * styles through the CSSOM, which `style-src 'self'` allows; `connect-src 'self'` covers fetching
 * /openapi.json and "Try it out".
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const HEADERS: HeaderPair[] = [
  ['Content-Security-Policy', DOCS_CSP],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-cache'],
]

const INDEX = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>statushub API</title>
<link rel="stylesheet" href="swagger-ui.css">
<link rel="icon" type="image/png" href="favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="init.js"></script>
</body>
</html>
`

// Relative URLs, so the viewer works under a proxy's path prefix too.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: new URL('../openapi.json', location.href).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
  })
})
`

const JS = 'text/javascript; charset=utf-8'

/** The package's folder, found the way Node resolves it from here. */
export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
}

/** File name → how to build its body (run once, on first request). */
function sources(dir: string): Record<string, () => StaticBody> {
  const file = (name: string) => readFileSync(join(dir, name))
  return {
    '': () => new StaticBody(Buffer.from(INDEX), 'text/html; charset=utf-8', HEADERS),
    'init.js': () => new StaticBody(Buffer.from(INIT), JS, HEADERS),
    // The source map is not served: without the comment no browser asks for it.
    'swagger-ui-bundle.js': () => new StaticBody(Buffer.from(file('swagger-ui-bundle.js').toString('utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')), JS, HEADERS),
    'swagger-ui.css': () => new StaticBody(Buffer.from(file('swagger-ui.css').toString('utf8').replace(/\n\/\*# sourceMappingURL=\S+ \*\/\s*$/, '\n')), 'text/css; charset=utf-8', HEADERS),
    'favicon-32x32.png': () => new StaticBody(file('favicon-32x32.png'), 'image/png', HEADERS),
  }
}

export function mountDocs(router: Router, dir = swaggerUiDir()): void {
  const built = new Map<string, StaticBody>()
  for (const [name, make] of Object.entries(sources(dir))) {
    router.page(`/docs/${name}`, (res, req, head) => {
      let body = built.get(name)
      if (body === undefined) built.set(name, (body = make()))
      body.serve(res, req, head)
    })
  }
  // `/docs` → `/docs/`, so the page's relative URLs resolve inside /docs/.
  router.page('/docs', (res: HttpResponse, _req, head) => {
    res.cork(() => {
      res.writeStatus('301 Moved Permanently').writeHeader('Location', 'docs/').writeHeader('Content-Type', 'text/plain; charset=utf-8')
      if (head) res.endWithoutBody()
      else res.end('docs/')
    })
  })
}
