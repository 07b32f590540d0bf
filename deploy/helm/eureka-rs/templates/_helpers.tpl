{{/* The chart name, shortened to the 63 characters a label allows. */}}
{{- define "eureka-rs.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects. Kept to 52 characters: the StatefulSet's pods add
"-NNN" and their controller-revision-hash label a further suffix.
*/}}
{{- define "eureka-rs.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service that publishes every pod, ready or not, for peer discovery. */}}
{{- define "eureka-rs.headless" -}}
{{- printf "%s-headless" (include "eureka-rs.fullname" .) }}
{{- end }}

{{- define "eureka-rs.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "eureka-rs.labels" -}}
helm.sh/chart: {{ include "eureka-rs.chart" . }}
{{ include "eureka-rs.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "eureka-rs.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eureka-rs.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "eureka-rs.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eureka-rs.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* http or https, from the TLS values; also the name of the Services' port. */}}
{{- define "eureka-rs.scheme" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{- define "eureka-rs.authSecret" -}}
{{- default (printf "%s-auth" (include "eureka-rs.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/*
The server's application.yml: what the chart derives from the values, overridden by
.Values.config. The pod's name, namespace and IP come from the environment through Spring
placeholders, so the same file serves every pod (and the plain manifests any namespace).
*/}}
{{- define "eureka-rs.config" -}}
{{- $headless := include "eureka-rs.headless" . -}}
{{- $domain := printf "%s.${POD_NAMESPACE}.svc.%s" $headless .Values.clusterDomain -}}
{{- $server := dict "peer-eureka-nodes-update-interval-ms" (int .Values.peers.refreshIntervalMs) -}}
{{- if eq .Values.peers.discovery "srv" }}
{{- $_ := set $server "peer-dns-name" (printf "_%s._tcp.%s" (include "eureka-rs.scheme" .) $domain) }}
{{- $_ := set $server "peer-dns-srv" true }}
{{- else }}
{{- $_ := set $server "peer-dns-name" $domain }}
{{- end }}
{{- $instance := dict "hostname" (printf "${POD_NAME}.%s" $domain) "ip-address" "${POD_IP}" "instance-id" "${POD_NAME}" -}}
{{- $eureka := dict "server" $server "instance" $instance -}}
{{- $root := dict "server" (dict "port" (int .Values.port)) "eureka" $eureka "logging" (dict "format" .Values.logging.format) -}}
{{- if .Values.auth.enabled }}
{{- $users := dict .Values.auth.peerUser (dict "password" "${AUTH_PEER_PASSWORD}" "roles" (list "peer")) }}
{{- range $i, $name := keys .Values.auth.users | sortAlpha }}
{{- $user := get $.Values.auth.users $name }}
{{- $_ := set $users $name (dict "password" (printf "${AUTH_USER_%d_PASSWORD}" $i) "roles" $user.roles) }}
{{- end }}
{{- $_ := set $eureka "security" (dict "enabled" true "users" $users "anonymous-read" .Values.auth.anonymousRead "protect-metrics" .Values.auth.protectMetrics) }}
{{- $_ := set $server "peer-username" .Values.auth.peerUser }}
{{- $_ := set $server "peer-password" "${AUTH_PEER_PASSWORD}" }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $ssl := dict "certificate" "/etc/eureka-rs/tls/tls.crt" "certificate-private-key" "/etc/eureka-rs/tls/tls.key" "client-auth" .Values.tls.clientAuth }}
{{- $peerTls := dict "trust-certificate" "/etc/eureka-rs/tls/ca.crt" }}
{{- if ne .Values.tls.clientAuth "none" }}
{{- $_ := set $ssl "trust-certificate" "/etc/eureka-rs/tls/ca.crt" }}
{{- $_ := set $peerTls "certificate" "/etc/eureka-rs/tls/tls.crt" }}
{{- $_ := set $peerTls "certificate-private-key" "/etc/eureka-rs/tls/tls.key" }}
{{- end }}
{{- $_ := set (get $root "server") "ssl" $ssl }}
{{- $_ := set $server "peer-tls" $peerTls }}
{{- end }}
{{- toYaml (mergeOverwrite $root (deepCopy .Values.config)) }}
{{- end }}
