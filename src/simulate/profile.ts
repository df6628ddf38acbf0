import { InvalidInputError } from '../errors.js';
import { parseVersion } from '../registry/version.js';
import { strictDecimal } from '../validation/strict.js';
import type { VersionProfile } from './traffic.js';

// E|N(0, σ)| = σ·√(2/π): the noise that gives a requested mean absolute error.
const MAE_TO_SIGMA = Math.sqrt(Math.PI / 2);

/** mae in the model's units, error a rate, latency in milliseconds (at most a minute). */
const BOUNDS = {
  mae: { min: 0, max: 1e9 },
  error: { min: 0, max: 1 },
  latency: { min: 0, max: 60_000 },
} as const;

/** `1.1.0:mae=12.5,error=0.001,latency=40` → ['1.1.0', { noise, errorRate, latencyMs }]. */
export function parseProfile(text: string): [string, VersionProfile] {
  const colon = text.indexOf(':');
  if (colon <= 0)
    throw new InvalidInputError('--profile', text, 'must look like VERSION:mae=12.5,error=0.001,latency=40');
  const version = parseVersion(text.slice(0, colon), '--profile').version;
  const profile: VersionProfile = { noise: 10 };
  for (const part of text
    .slice(colon + 1)
    .split(',')
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    if (!Object.hasOwn(BOUNDS, key))
      throw new InvalidInputError(
        '--profile',
        text,
        `unknown key ${JSON.stringify(key)} (use mae, error, latency)`,
      );
    const parsed = strictDecimal(raw, BOUNDS[key as keyof typeof BOUNDS]);
    if (!parsed.ok) throw new InvalidInputError('--profile', text, `${key}: ${parsed.reason}`);
    if (key === 'mae') profile.noise = parsed.value * MAE_TO_SIGMA;
    else if (key === 'error') profile.errorRate = parsed.value;
    else profile.latencyMs = parsed.value;
  }
  return [version, profile];
}
