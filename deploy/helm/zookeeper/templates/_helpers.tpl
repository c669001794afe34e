{{/* The name of the StatefulSet and the prefix of everything else. */}}
{{- define "zookeeper.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "zookeeper.headless" -}}
{{- printf "%s-hs" (include "zookeeper.fullname" .) -}}
{{- end -}}

{{- define "zookeeper.client" -}}
{{- printf "%s-client" (include "zookeeper.fullname" .) -}}
{{- end -}}

{{- define "zookeeper.selectorLabels" -}}
app.kubernetes.io/name: zookeeper
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "zookeeper.labels" -}}
{{ include "zookeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Where the server's generated files go (in the emptyDir on /tmp). */}}
{{- define "zookeeper.workDir" -}}/tmp/zk{{- end -}}
