// Files shipped inside the installed package, found from this module's own location so they
// resolve the same from src/ (tests), dist/src/ (the bin) and node_modules/secure-defaults.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'secure-defaults';

/** The directory of the secure-defaults package.json above `fromUrl`. */
export function findPackageRoot(fromUrl: string): string {
  let directory = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (parsed.name === PACKAGE_NAME) {
        return directory;
      }
    }
    const parent = dirname(directory);
    if (parent === directory) {
      throw new Error(`no ${PACKAGE_NAME} package.json above ${fromUrl}`);
    }
    directory = parent;
  }
}

export function packageVersion(root: string): string {
  const parsed = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}

export function defaultPolicyPath(root: string): string {
  return join(root, 'policies', 'default.yaml');
}
