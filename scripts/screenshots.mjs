#!/usr/bin/env node
// `npm run screenshots`: a PNG of each dashboard page in docs/screenshots/ (light; the overview and
// a rotation also dark and at 375 px). It runs the real-browser test (test/ui/dashboard.test.ts)
// with SK_UI_SCREENSHOTS set, so the pictures show exactly what the test checked: a real vault,
// agent and Redis. Not part of `npm test` (tests never write tracked files). Run after a build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve('docs/screenshots');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', 'ui/dashboard'], { stdio: 'inherit', env: { ...process.env, SK_UI_SCREENSHOTS: dir } });
if (r.status !== 0) process.exit(r.status ?? 1);
const shots = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
console.log(`screenshots: ${shots.length} in ${join('docs', 'screenshots')}: ${shots.join(', ')}`);
