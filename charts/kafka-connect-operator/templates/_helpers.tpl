{{/* The chart name, or nameOverride. */}}
{{- define "kco.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object name: fullnameOverride, else <release>-<chart> (just <release> when it contains the chart name). */}}
{{- define "kco.fullname" -}}
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

{{/*
Name of cluster-scoped objects (ClusterRole, ClusterRoleBinding): the full name plus the
release namespace, so that one release per namespace (same release name) never collides.
*/}}
{{- define "kco.clusterScopedName" -}}
{{- printf "%s-%s" (include "kco.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "kco.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kco.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kco.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kco.labels" -}}
helm.sh/chart: {{ include "kco.chart" . }}
{{ include "kco.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kafka-connect-operator
{{- end }}

{{- define "kco.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kco.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kco.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* "true" when the operator elects a leader: asked for, or forced by replicas > 1. */}}
{{- define "kco.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{- define "kco.leaseName" -}}
{{- default (include "kco.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* The operator processes this release runs, as JSON: [{name, selector}]. One, with
watchLabelSelector as its selector (empty: every cluster object), unless sharding.shards lists
shards: then a default shard for the cluster objects without the shard label, and one per shard
for those labelled <sharding.label>=<shard>, as Flux shards its controllers. */}}
{{- define "kco.shards" -}}
{{- $shards := list (dict "name" "" "selector" (.Values.watchLabelSelector | default "")) }}
{{- if .Values.sharding.shards }}
{{- $shards = list (dict "name" "" "selector" (printf "!%s" .Values.sharding.label)) }}
{{- range .Values.sharding.shards }}
{{- $shards = append $shards (dict "name" . "selector" (printf "%s=%s" $.Values.sharding.label .)) }}
{{- end }}
{{- end }}
{{- toJson $shards }}
{{- end }}

{{/* The Lease a process with selector .selector holds: KCO_LEASE_NAME, plus (with a selector)
the first 10 hex digits of the selector's SHA-256, as the operator derives it.
Usage: include "kco.leaseFor" (dict "root" . "selector" "...") */}}
{{- define "kco.leaseFor" -}}
{{- if .selector }}
{{- printf "%s-%s" (include "kco.leaseName" .root) (sha256sum .selector | trunc 10) }}
{{- else }}
{{- include "kco.leaseName" .root }}
{{- end }}
{{- end }}

{{/* Every Lease this release's processes hold, as a YAML flow list of quoted names. */}}
{{- define "kco.heldLeaseNames" -}}
{{- $names := list }}
{{- range fromJsonArray (include "kco.shards" .) }}
{{- $names = append $names (include "kco.leaseFor" (dict "root" $ "selector" .selector) | quote) }}
{{- end }}
{{- printf "[%s]" (join ", " $names) }}
{{- end }}

{{/* The one watched namespace, or "" for all of them. */}}
{{- define "kco.watchNamespace" -}}
{{- if eq (len .Values.watchNamespaces) 1 }}{{ first .Values.watchNamespaces }}{{ end }}
{{- end }}

{{/* Refuses value combinations that would render a broken install. */}}
{{- define "kco.validate" -}}
{{- if gt (len .Values.watchNamespaces) 1 }}
{{- fail (printf "watchNamespaces lists %d namespaces, but the operator watches one namespace (KCO_NAMESPACE) or all of them: install one release per namespace, each with watchNamespaces: [that-namespace]" (len .Values.watchNamespaces)) }}
{{- end }}
{{- if and .Values.sharding.shards .Values.watchLabelSelector }}
{{- fail "set sharding.shards (one Deployment per shard, plus a default one) or watchLabelSelector (this release is one shard), not both" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor scrapes that Service" }}
{{- end }}
{{- end }}

{{/*
RBAC rules, from the chart's files/rbac/<name>.yaml (rendered with tpl): the one source of the
rules, shared with deploy/ (hack/render-deploy.sh). Usage:
  {{ include "kco.rbacRules" (dict "root" . "name" "namespaced") | nindent 2 }}
namespaced: rules on namespaced resources (the ClusterRole, or the Role of a watched namespace);
crds: the cluster-scoped CRD rule; leader-election: the Lease rules of the release namespace.
*/}}
{{- define "kco.rbacRules" -}}
{{- $file := printf "files/rbac/%s.yaml" .name }}
{{- $rules := .root.Files.Get $file }}
{{- if not $rules }}{{ fail (printf "%s is missing from the chart" $file) }}{{ end }}
{{- tpl $rules .root | trim }}
{{- end }}

{{/* The DNS names of the webhook Service, comma-separated (its serving certificate's names). */}}
{{- define "kco.webhookNames" -}}
{{- $svc := printf "%s-webhook" (include "kco.fullname" .) }}
{{- $ns := .Release.Namespace }}
{{- printf "%s.%s.svc,%s.%s.svc.cluster.local,%s.%s,%s" $svc $ns $svc $ns $svc $ns $svc }}
{{- end }}
