import { z } from 'zod';
import { unstorableText } from './storable-text.js';

/** A string schema for text that reaches the database: at most `max` characters, storable as sent. */
export const storableString = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((text, ctx) => {
      const problem = unstorableText(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
