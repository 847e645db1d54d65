{{/*
Names and labels shared by every template. Cluster-scoped objects (the ClusterRole and
its binding) carry the release's full name, so two releases in different namespaces
never overwrite each other's.
*/}}

{{- define "ingest-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: a DNS label, at most 63 characters. */}}
{{- define "ingest-operator.fullname" -}}
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

{{- define "ingest-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* What selects the operator's pods; never changes after install (selectors are immutable). */}}
{{- define "ingest-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ingest-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels every object carries besides the ones that select it. */}}
{{- define "ingest-operator.commonLabels" -}}
helm.sh/chart: {{ include "ingest-operator.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ingest-service
{{- end }}

{{- define "ingest-operator.labels" -}}
{{ include "ingest-operator.commonLabels" . }}
{{ include "ingest-operator.selectorLabels" . }}
{{- end }}

{{- define "ingest-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ingest-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given, else repository:tag (the appVersion by default). */}}
{{- define "ingest-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The `helm test` image: the operator's own unless tests.image.repository is set. */}}
{{- define "ingest-operator.testImage" -}}
{{- if .Values.tests.image.repository }}
{{- printf "%s:%s" .Values.tests.image.repository (required "tests.image.tag is required when tests.image.repository is set" .Values.tests.image.tag) }}
{{- else }}
{{- include "ingest-operator.image" . }}
{{- end }}
{{- end }}

{{/* The `helm test` Pod's labels, which the NetworkPolicy lets in. */}}
{{- define "ingest-operator.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "ingest-operator.name" . }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
