import { InvalidInputError } from '../registry/errors.js';
import { parseVersion } from '../registry/version.js';
import type { VersionProfile } from './traffic.js';

// E|N(0, σ)| = σ·√(2/π): the noise that gives a requested mean absolute error.
const MAE_TO_SIGMA = Math.sqrt(Math.PI / 2);

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
    const [key, raw] = part.split('=');
    const value = Number(raw);
    if (!raw || !Number.isFinite(value) || value < 0)
      throw new InvalidInputError('--profile', text, `${part}: needs a number ≥ 0`);
    if (key === 'mae') profile.noise = value * MAE_TO_SIGMA;
    else if (key === 'error') {
      if (value > 1) throw new InvalidInputError('--profile', text, 'error is a rate between 0 and 1');
      profile.errorRate = value;
    } else if (key === 'latency') profile.latencyMs = value;
    else
      throw new InvalidInputError(
        '--profile',
        text,
        `unknown key ${JSON.stringify(key)} (use mae, error, latency)`,
      );
  }
  return [version, profile];
}
