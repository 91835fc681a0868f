import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readDockerfile, runtimeStage } from '../../scripts/dockerfile-model';
import { argValue, imageNodeMajor, imageNodeVersion, resolveNode, versionMatches } from '../../scripts/image-node';

/**
 * scripts/image-node.ts: which Node the image runs, read from the Dockerfile, so that
 * verify:image (CI) and the bench can run on it. Fetching from the registry is exercised by
 * `npm run verify:image` in .ci/run, not here.
 */
describe('the image\'s Node (scripts/image-node.ts)', () => {
    let dir: string;
    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'image-node-'));
    });
    after(() => {
        rmSync(dir, { recursive: true, force: true });
    });
    const dockerfile = (text: string): string => {
        const file = path.join(dir, `Dockerfile.${Math.random().toString(36).slice(2)}`);
        writeFileSync(file, text);
        return file;
    };

    it('reads the version from our Dockerfile\'s FROM, the same in every stage', () => {
        const version = imageNodeVersion();
        assert.match(version, /^\d+$/, 'the Dockerfile names a major (node:<major>-...)');
        assert.ok(runtimeStage(readDockerfile(path.join(__dirname, '..', '..', 'Dockerfile'))).base.startsWith(`node:${version}-`));
        assert.ok(imageNodeMajor() >= 20);
    });

    it('reads majors, exact versions and digests, through ARG', () => {
        assert.equal(imageNodeVersion(dockerfile('ARG N=node:22-bookworm-slim\nFROM ${N} AS build\nFROM ${N}\n')), '22');
        assert.equal(imageNodeVersion(dockerfile('FROM node:24.11.0-bookworm-slim@sha256:abcd\n')), '24.11.0');
        assert.equal(imageNodeVersion(dockerfile('FROM docker.io/library/node:24.11\n')), '24.11');
        assert.equal(imageNodeMajor(dockerfile('FROM node:24.11.0-bookworm-slim\n')), 24);
    });

    it('refuses a base it cannot read, and stages on different Nodes', () => {
        assert.throws(() => imageNodeVersion(dockerfile('FROM debian:bookworm-slim\n')), /not node:<version>/);
        assert.throws(() => imageNodeVersion(dockerfile('FROM node:lts-slim\n')), /not node:<version>/);
        assert.throws(() => imageNodeVersion(dockerfile('FROM node:22 AS build\nFROM node:24-bookworm-slim\n')), /stage build runs node:22/);
    });

    it('matches versions component by component', () => {
        assert.ok(versionMatches('v24.22.3', '24'));
        assert.ok(versionMatches('v24.22.3', '24.22'));
        assert.ok(versionMatches('v24.22.3', '24.22.3'));
        assert.ok(!versionMatches('v24.22.3', '2'));
        assert.ok(!versionMatches('v24.22.3', '24.2'));
        assert.ok(!versionMatches('v20.20.2', '24'));
    });

    it('resolves --node current and a path without the registry, and refuses anything else', () => {
        const current = resolveNode('current');
        assert.equal(current.bin, process.execPath);
        assert.equal(current.version, process.version);
        const byPath = resolveNode(process.execPath);
        assert.equal(byPath.version, process.version);
        assert.equal(byPath.major, Number(process.versions.node.split('.')[0]));
        assert.throws(() => resolveNode('lts'), /expected current, image, a version/);
        assert.throws(() => resolveNode('/nonexistent/node'), /expected current, image, a version/);
    });

    it('reads --name value arguments', () => {
        assert.equal(argValue(['--node', '24', '--quick'], 'node'), '24');
        assert.equal(argValue(['--quick'], 'node'), undefined);
        assert.throws(() => argValue(['--node'], 'node'), /--node needs a value/);
        assert.throws(() => argValue(['--node', '--quick'], 'node'), /--node needs a value/);
    });
});
