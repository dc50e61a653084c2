import { createRequire } from 'node:module';
import type { imageSize as ImageSize } from 'image-size';
import { ICON_OPT_IN_LABEL, IconLimits, OrganizationConditions, OrganizationReasons } from '../../api/organization/names.ts';
import type { IconReference } from '../../api/organization/schema.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';

// image-size (26 modules) is loaded with the first icon, as nodemailer with the first
// email: an operator whose organizations set no icon never holds it (app.imports.test.ts).
let loadedImageSize: typeof ImageSize | undefined;
const imageSize = (bytes: Uint8Array): ReturnType<typeof ImageSize> => (loadedImageSize ??= (createRequire(import.meta.url)('image-size') as { imageSize: typeof ImageSize }).imageSize)(bytes);

/** The icon check's reasons (OrganizationReasons). */
export const IconReasons = {
  IconValid: OrganizationReasons.IconValid,
  IconMissing: OrganizationReasons.IconMissing,
  IconNotAnImage: OrganizationReasons.IconNotAnImage,
  IconTooLarge: OrganizationReasons.IconTooLarge,
  IconTooWide: OrganizationReasons.IconTooWide,
} as const;

const ACCEPTED = new Set(['png', 'jpg', 'gif', 'webp']);
const MiB = 1024 * 1024;

const invalid = (reason: string, message: string): ConditionInput => ({ type: OrganizationConditions.IconValid, status: 'False', reason, message });

/**
 * Checks the icon's bytes: PNG, JPEG, GIF or WebP, at most 1 MiB and 512×512 pixels.
 * `bytes` undefined means the Secret, ConfigMap or key does not exist. Only the image
 * header is read (image-size), never the whole image decoded.
 */
export function checkIcon(ref: IconReference, bytes: Uint8Array | undefined): ConditionInput {
  const where = `${ref.kind} ${ref.name} key ${ref.key}`;
  if (!bytes) {
    // One message whether the object is missing, lacks the key, or did not opt in: the check
    // must not tell anyone who cannot read Secrets or ConfigMaps whether one exists.
    return invalid(
      IconReasons.IconMissing,
      `No ${ref.kind} ${ref.name} labelled ${ICON_OPT_IN_LABEL}=true with the key ${ref.key} is available for the icon; create it, or label it (only someone who may update it can), or fix spec.icon`,
    );
  }
  if (bytes.length > IconLimits.maxBytes) {
    return invalid(IconReasons.IconTooLarge, `The icon ${where} is ${(bytes.length / MiB).toFixed(2)} MiB; it must be at most 1 MiB`);
  }
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    return invalid(IconReasons.IconNotAnImage, `The icon ${where} is not a PNG, JPEG, GIF or WebP image`);
  }
  if (!size.type || !ACCEPTED.has(size.type)) {
    return invalid(IconReasons.IconNotAnImage, `The icon ${where} is ${size.type ? `a ${size.type.toUpperCase()} image` : 'not an image'}; it must be PNG, JPEG, GIF or WebP`);
  }
  const { width = 0, height = 0 } = size;
  if (width > IconLimits.maxWidth || height > IconLimits.maxHeight) {
    return invalid(IconReasons.IconTooWide, `The icon ${where} is ${width}×${height} pixels; it must be at most ${IconLimits.maxWidth}×${IconLimits.maxHeight}`);
  }
  return { type: OrganizationConditions.IconValid, status: 'True', reason: IconReasons.IconValid, message: `The icon is a ${width}×${height} ${size.type.toUpperCase()} image` };
}

/**
 * The bytes under `key` in a Secret's or ConfigMap's data (base64 for a Secret) or a
 * ConfigMap's binaryData. Either counts only if it carries ICON_OPT_IN_LABEL=true: the
 * label is the object's consent to be read for an Organization's icon.
 */
export function iconBytes(
  obj: { metadata?: { labels?: Record<string, string> }; data?: Record<string, string>; binaryData?: Record<string, string> } | undefined,
  kind: IconReference['kind'],
  key: string,
): Uint8Array | undefined {
  if (obj?.metadata?.labels?.[ICON_OPT_IN_LABEL] !== 'true') return undefined;
  if (kind === 'Secret') return obj.data?.[key] !== undefined ? Buffer.from(obj.data[key], 'base64') : undefined;
  if (obj.binaryData?.[key] !== undefined) return Buffer.from(obj.binaryData[key], 'base64');
  return obj.data?.[key] !== undefined ? Buffer.from(obj.data[key], 'utf8') : undefined;
}
