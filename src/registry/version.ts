import semver from 'semver';
import { InvalidInputError } from '../errors.js';

export interface ParsedVersion {
  /** The canonical string stored in the registry, e.g. `2.1.0+20250818142000`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  prerelease: string | null;
  build: string | null;
}

// The source systems tag versions as v2.1.0_20250818_142000 (semver + training timestamp).
const TIMESTAMPED = /^v?(\d+\.\d+\.\d+)_(\d{8})_(\d{6})$/;

/**
 * Accepts `MAJOR.MINOR.PATCH` with optional `-pre` and `+build` (strict SemVer 2.0, an optional leading `v`),
 * and the timestamped form `v2.1.0_20250818_142000`, which becomes `2.1.0+20250818142000`.
 */
export function parseVersion(input: string, field = 'version'): ParsedVersion {
  const trimmed = input.trim();
  const timestamped = TIMESTAMPED.exec(trimmed);
  const candidate = timestamped
    ? `${timestamped[1]}+${timestamped[2]}${timestamped[3]}`
    : trimmed.replace(/^v/, '');
  const parsed = semver.parse(candidate);
  if (!parsed || parsed.raw !== candidate) {
    throw new InvalidInputError(
      field,
      input,
      'not a semantic version (MAJOR.MINOR.PATCH with optional -prerelease and +build, e.g. 2.1.0 or 2.1.0+20250818142000)',
    );
  }
  return {
    version: parsed.build.length ? `${parsed.version}+${parsed.build.join('.')}` : parsed.version,
    major: parsed.major,
    minor: parsed.minor,
    patch: parsed.patch,
    prerelease: parsed.prerelease.length ? parsed.prerelease.join('.') : null,
    build: parsed.build.length ? parsed.build.join('.') : null,
  };
}
