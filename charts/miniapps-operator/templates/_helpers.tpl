{{/* Chart name, truncated to 63 characters (a label value's limit). */}}
{{- define "miniapps-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the resources: fullnameOverride, else the release name plus the chart
name (unless the release name already contains it); truncated to 63 characters.
*/}}
{{- define "miniapps-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A name derived from the full name with a suffix, still at most 63 characters. */}}
{{- define "miniapps-operator.suffixed" -}}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "miniapps-operator.fullname" (index . 0) | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{/* Namespace of the namespaced resources. */}}
{{- define "miniapps-operator.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* chart label: name-version. */}}
{{- define "miniapps-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select one component's pods (list . "<component>": controller, console,
identity); never change across upgrades.
*/}}
{{- define "miniapps-operator.componentSelectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "miniapps-operator.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Standard labels of one component's resources (list . "<component>"). */}}
{{- define "miniapps-operator.componentLabels" -}}
{{- $ := index . 0 -}}
{{ include "miniapps-operator.componentSelectorLabels" . }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
app.kubernetes.io/part-of: miniapps-operator
helm.sh/chart: {{ include "miniapps-operator.chart" $ }}
{{- end }}

{{/* Labels that select the operator pods. */}}
{{- define "miniapps-operator.selectorLabels" -}}
{{ include "miniapps-operator.componentSelectorLabels" (list . "controller") }}
{{- end }}

{{/* Standard labels of every resource of the operator. */}}
{{- define "miniapps-operator.labels" -}}
{{ include "miniapps-operator.componentLabels" (list . "controller") }}
{{- end }}

{{/* Name of the operator's ServiceAccount. */}}
{{- define "miniapps-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "miniapps-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "miniapps-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Name of the webhook's serving-certificate Secret. */}}
{{- define "miniapps-operator.webhookCertSecret" -}}
{{- default (include "miniapps-operator.suffixed" (list . (ternary "webhook-tls" "webhook-cert" (or .Values.webhook.certManager.enabled (not (empty .Values.webhook.caBundle)))))) .Values.webhook.certSecretName }}
{{- end }}

{{/* Whether the operator generates and rotates the webhook's certificate (neither cert-manager nor a CA of yours). */}}
{{- define "miniapps-operator.webhookGenerated" -}}
{{- if and (not .Values.webhook.certManager.enabled) (empty .Values.webhook.caBundle) }}true{{ end }}
{{- end }}

{{/* Name of the cert-manager Certificate of the webhook. */}}
{{- define "miniapps-operator.webhookCertificate" -}}
{{- include "miniapps-operator.suffixed" (list . "webhook") }}
{{- end }}

{{/*
Name of the "namespace access" ClusterRole: the operator binds it (RoleBinding
`miniapps-operator`) in each namespace it manages, and nowhere else is it bound.
*/}}
{{- define "miniapps-operator.namespaceAccessRole" -}}
{{- include "miniapps-operator.suffixed" (list . "namespace") }}
{{- end }}

{{/*
The acceptance page's URL, the base of invitation links: invitations.publicUrl when set;
else the Ingress's host (https when the Ingress's tls names that host); else
http://localhost:8081/, which only works for someone on the same machine (NOTES warns).
*/}}
{{- define "miniapps-operator.publicUrl" -}}
{{- if .Values.invitations.publicUrl -}}
{{- .Values.invitations.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- $tls := false -}}
{{- range .Values.ingress.tls -}}
{{- if has $.Values.ingress.host (.hosts | default list) -}}{{- $tls = true -}}{{- end -}}
{{- end -}}
{{- printf "%s://%s/" (ternary "https" "http" $tls) .Values.ingress.host -}}
{{- else -}}
http://localhost:8081/
{{- end -}}
{{- end }}

{{/* The console's resources' name. */}}
{{- define "miniapps-operator.console.fullname" -}}
{{- include "miniapps-operator.suffixed" (list . "console") }}
{{- end }}

{{/* Labels that select the console's pods. */}}
{{- define "miniapps-operator.console.selectorLabels" -}}
{{ include "miniapps-operator.componentSelectorLabels" (list . "console") }}
{{- end }}

{{/* Standard labels of the console's resources. */}}
{{- define "miniapps-operator.console.labels" -}}
{{ include "miniapps-operator.componentLabels" (list . "console") }}
{{- end }}

{{/*
The namespace of the console's sessions (Secrets): console.sessions.namespace, else
<release namespace>-console, which the chart creates. Not the release namespace: the
console's ServiceAccount reads every Secret of the namespace it may write sessions to, and
the release namespace holds the operator's (its webhook's key, provisioning
administrators' API keys).
*/}}
{{- define "miniapps-operator.console.sessionsNamespace" -}}
{{- $release := include "miniapps-operator.namespace" . -}}
{{- if eq .Values.console.sessions.namespace $release -}}
{{- fail (printf "console.sessions.namespace must not be the release namespace (%s): the console's ServiceAccount may read every Secret of its sessions' namespace, and the release namespace's are the operator's (its webhook's key, provisioning administrators' API keys). Leave it empty (%s-console, made by the chart) or name another namespace" $release $release) -}}
{{- end -}}
{{- default (printf "%s-console" $release | trunc 63 | trimSuffix "-") .Values.console.sessions.namespace }}
{{- end }}

{{/* The console's URL as browsers reach it: console.publicUrl, else its Ingress's host (https when the Ingress's tls names it). */}}
{{- define "miniapps-operator.console.publicUrl" -}}
{{- if .Values.console.publicUrl -}}
{{- .Values.console.publicUrl | trimSuffix "/" -}}
{{- else if .Values.console.ingress.enabled -}}
{{- $tls := false -}}
{{- range .Values.console.ingress.tls -}}
{{- if has $.Values.console.ingress.host (.hosts | default list) -}}{{- $tls = true -}}{{- end -}}
{{- end -}}
{{- printf "%s://%s" (ternary "https" "http" $tls) .Values.console.ingress.host -}}
{{- else -}}
{{- fail "console.enabled needs console.publicUrl or console.ingress.enabled: the sign-in's redirect URI (<public URL>/auth/callback) is registered with the identity provider, so the console's URL must be known" -}}
{{- end -}}
{{- end }}

{{/*
The embedded identity provider's issuer URL: identity.issuer when set; else
https://<ingress.host> (its paths are routed there by the identity Ingress). Fails when
neither is given.
*/}}
{{- define "miniapps-operator.identityIssuer" -}}
{{- if .Values.identity.issuer -}}
{{- trimSuffix "/" .Values.identity.issuer -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "https://%s" .Values.ingress.host -}}
{{- else -}}
{{- fail "identity.enabled needs an issuer URL: set identity.issuer, or ingress.enabled (the issuer is then https://<ingress.host>)" -}}
{{- end -}}
{{- end }}

{{/* The embedded identity provider's resources' name. */}}
{{- define "miniapps-operator.identity.fullname" -}}
{{- include "miniapps-operator.suffixed" (list . "identity") }}
{{- end }}

{{/* Labels that select the identity provider's pods. */}}
{{- define "miniapps-operator.identity.selectorLabels" -}}
{{ include "miniapps-operator.componentSelectorLabels" (list . "identity") }}
{{- end }}

{{/* Standard labels of the identity provider's resources. */}}
{{- define "miniapps-operator.identity.labels" -}}
{{ include "miniapps-operator.componentLabels" (list . "identity") }}
{{- end }}

{{/*
The namespace of the identity provider's Secrets (accounts, sessions and tokens, signing
keys, lockouts): identity.namespace, else <release namespace>-identity, which the chart
creates. Not the release namespace: the provider's ServiceAccount reads every Secret of the
namespace its state is in, and the release namespace's are the operator's (its key-encryption
key, the webhook's key, provisioning administrators' API keys).
*/}}
{{- define "miniapps-operator.identity.namespace" -}}
{{- $release := include "miniapps-operator.namespace" . -}}
{{- $namespace := default (printf "%s-identity" $release | trunc 63 | trimSuffix "-") .Values.identity.namespace -}}
{{- if .Values.identity.enabled -}}
{{- if eq $namespace $release -}}
{{- fail (printf "identity.namespace must not be the release namespace (%s): the identity provider's ServiceAccount may read every Secret of its namespace, and the release namespace's are the operator's (its key-encryption key, the webhook's key, provisioning administrators' API keys). Leave it empty (%s-identity, made by the chart) or name another namespace" $release $release) -}}
{{- end -}}
{{- if and .Values.console.enabled (eq $namespace (include "miniapps-operator.console.sessionsNamespace" .)) -}}
{{- fail (printf "identity.namespace must not be the console's sessions namespace (%s): each one's ServiceAccount may read every Secret of its namespace, and the other's are password hashes, keys and people's tokens. Give each a namespace of its own" $namespace) -}}
{{- end -}}
{{- end -}}
{{- $namespace }}
{{- end }}

{{/* The SMTP server's flags (invitations, set-password and reset emails): the operator's and the identity provider's. */}}
{{- define "miniapps-operator.smtpArgs" -}}
{{- with .Values.invitations.smtp }}
{{- if .host }}
- --smtp-host={{ .host }}
- --smtp-port={{ .port }}
- --smtp-security={{ .security }}
- --smtp-from={{ .from }}
{{- if .credentialsSecret }}
- --smtp-credentials-secret=$(POD_NAMESPACE)/{{ .credentialsSecret }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
