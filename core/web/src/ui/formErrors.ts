// What a form shows of an API error: beside the field the error names, or
// above the buttons when no field of the form shows it.

import { ApiError, errorText } from "../api/client";

/** fieldError is the message of an ApiError about one of fields, for
 * showing beside that field (without the field's name in front). */
export function fieldError(e: unknown, ...fields: string[]): string | undefined {
  return e instanceof ApiError && e.field && fields.includes(e.field) ? e.fieldMessage : undefined;
}

/** formError is what a form shows above its buttons: any error that no
 * field of the form shows beside itself. */
export function formError(e: unknown, fields: string[]): string | undefined {
  if (!e) return undefined;
  if (e instanceof ApiError && e.field && fields.includes(e.field)) return undefined;
  return errorText(e);
}
