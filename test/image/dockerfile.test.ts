// What the Dockerfile promises, read from the file itself: a distroless runtime as a numeric
// non-root user, exec-form entrypoint into the compiled CLI, production dependencies only.
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO_ROOT } from '../chart/helm-runner.js';
import { asCopy, execFormOf, finalStage, isIgnored, readDockerfile, readIgnorePatterns, stepsOf } from './dockerfile-reader.js';

const stages = readDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const runtime = finalStage(stages);
const ignorePatterns = readIgnorePatterns(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));

describe('Dockerfile', () => {
  test('builds with the full Node 24 image and runs on distroless Node 24 on the same Debian release, as nonroot', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages.slice(0, -1)) expect(stage.image).toBe('node:24-trixie');
    // Debian 13 is trixie: build and runtime share the C library native modules were built against.
    expect(runtime.image).toBe('gcr.io/distroless/nodejs24-debian13:nonroot');
    const labels = Object.assign({}, ...stepsOf(runtime, 'LABEL').map((step) => step.properties)) as Record<string, string>;
    expect(labels['org.opencontainers.image.base.name']).toBe(runtime.image);
  });

  test('runs as a numeric non-root user and group (runAsNonRoot can verify it)', () => {
    const users = stepsOf(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [user, group] = (users[0]!.words[0] ?? '').split(':');
    expect(user).toMatch(/^[1-9][0-9]*$/);
    expect(group ?? user).toMatch(/^[1-9][0-9]*$/);
    expect(Number(user)).toBe(65532);
  });

  test('the runtime stage has no RUN: nothing needs a shell', () => {
    expect(stepsOf(runtime, 'RUN')).toEqual([]);
  });

  test('ENTRYPOINT starts the compiled CLI with the image node binary, CMD is serve', () => {
    const entrypoint = execFormOf(runtime, 'ENTRYPOINT');
    expect(entrypoint).toEqual(['/nodejs/bin/node', 'dist/src/cli/main.js']);
    expect(execFormOf(runtime, 'CMD')).toEqual(['serve']);
    // dist/src/cli/main.js is what tsc emits for src/cli/main.ts under tsconfig's rootDir ".".
    expect(existsSync(join(REPO_ROOT, entrypoint[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: '.', outDir: 'dist' });
  });

  test('the runtime gets node_modules from a stage that installs production dependencies only', () => {
    const copies = stepsOf(runtime, 'COPY').map(asCopy);
    const modules = copies.find((copy) => copy.destination.replace(/\/$/, '').endsWith('node_modules'));
    expect(modules?.from).toBeTruthy();
    const source = stages.find((stage) => stage.name === modules!.from)!;
    const installs = stepsOf(source, 'RUN').map((step) => step.text);
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/^npm ci\b/);
    expect(installs[0]).toContain('--omit=dev');
  });

  test('the runtime has the compiled code, package.json (the CLI finds its root by it) and the shipped policies', () => {
    const copies = stepsOf(runtime, 'COPY').map(asCopy);
    const workdir = stepsOf(runtime, 'WORKDIR').at(-1)?.words[0] ?? '/';
    const placed = copies.map((copy) => [copy.sources.join(' '), posix.resolve(workdir, copy.destination)]);
    expect(placed).toEqual(
      expect.arrayContaining([
        ['/app/dist/src', '/app/dist/src'],
        ['package.json', '/app'],
        ['policies', '/app/policies'],
      ]),
    );
    const build = stages.find((stage) => stage.name === copies.find((copy) => copy.destination.includes('dist'))?.from);
    expect(stepsOf(build!, 'RUN').map((step) => step.text)).toEqual(['npm ci --no-audit --no-fund', 'npx tsc -p tsconfig.build.json']);
  });

  test('carries the OCI labels', () => {
    const labels = Object.assign({}, ...stepsOf(runtime, 'LABEL').map((step) => step.properties)) as Record<string, string>;
    for (const key of ['title', 'description', 'version', 'licenses', 'source']) {
      expect(labels[`org.opencontainers.image.${key}`]).toBeTruthy();
    }
    const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string; version: string };
    expect(labels['org.opencontainers.image.licenses']).toBe(packageJson.license);
    const versionArg = stepsOf(runtime, 'ARG').map((step) => step.properties['VERSION']).find(Boolean);
    expect(versionArg).toBe(packageJson.version);
  });

  test('.dockerignore keeps local state out but lets every COPY source in', () => {
    for (const path of ['node_modules', 'dist', '.git', 'coverage', 'node_modules/x/index.js']) expect(isIgnored(path, ignorePatterns)).toBe(true);
    const contextSources = stages.flatMap((stage) => stepsOf(stage, 'COPY').map(asCopy)).filter((copy) => copy.from === null).flatMap((copy) => copy.sources);
    expect(contextSources.length).toBeGreaterThan(0);
    for (const source of contextSources) {
      expect(isIgnored(source, ignorePatterns)).toBe(false);
      expect(existsSync(join(REPO_ROOT, source))).toBe(true);
    }
  });

  test('isIgnored follows .dockerignore rules for the pattern forms used', () => {
    const cases: [string, string[], boolean][] = [
      ['dist', ['dist'], true],
      ['dist/src/a.js', ['dist'], true],
      ['distribution', ['dist'], false],
      ['a.cpuprofile', ['*.cpuprofile'], true],
      ['src/a.cpuprofile', ['*.cpuprofile'], false],
      ['test/keep.txt', ['test', '!test/keep.txt'], false],
      ['test/other.txt', ['test', '!test/keep.txt'], true],
    ];
    for (const [path, patterns, expected] of cases) expect([path, patterns, isIgnored(path, patterns)]).toEqual([path, patterns, expected]);
  });
});
