{{/* Names are capped at 63 characters: they end up in DNS labels and label values. */}}
{{- define "secure-defaults.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "secure-defaults.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "secure-defaults.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "secure-defaults.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: secure-defaults
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "secure-defaults.selectorLabels" -}}
app.kubernetes.io/name: {{ include "secure-defaults.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "secure-defaults.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "secure-defaults.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "secure-defaults.policyConfigMapName" -}}
{{- default (printf "%s-policy" (include "secure-defaults.fullname" .)) .Values.policy.configMapName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "secure-defaults.tlsSecretName" -}}
{{- printf "%s-tls" (include "secure-defaults.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* cert-manager's serving Certificate; the webhook configurations name it in inject-ca-from. */}}
{{- define "secure-defaults.servingCertificateName" -}}
{{- printf "%s-serving" (include "secure-defaults.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Every name the API server may use to reach the Service; the serving certificate must carry them. */}}
{{- define "secure-defaults.serviceDnsNames" -}}
{{- $svc := include "secure-defaults.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson -}}
{{- end -}}

{{- define "secure-defaults.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
Namespaces the mutating webhook never sees: the control plane's own, this release's (so the
webhook can always restart itself, whatever its failurePolicy), and any the user adds.
*/}}
{{- define "secure-defaults.excludedNamespaces" -}}
{{- $excluded := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.excludeNamespaces -}}
{{- $excluded = append $excluded . -}}
{{- end -}}
{{- $excluded | uniq | toJson -}}
{{- end -}}

{{- define "secure-defaults.ledgerConfigMapName" -}}
{{- default (printf "%s-uid-ledger" (include "secure-defaults.fullname" .)) .Values.allocation.ledgerConfigMapName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "secure-defaults.allocatorLeaseName" -}}
{{- default (printf "%s-allocator" (include "secure-defaults.fullname" .)) .Values.allocation.leaseName | trunc 63 | trimSuffix "-" -}}
{{- end -}}
