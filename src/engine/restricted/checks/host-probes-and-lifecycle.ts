// Probes and lifecycle handlers must not reach other hosts (the node or its neighbours) by
// naming a host: the kubelet would make the request from the node's network.
// Restricted fields: {liveness,readiness,startup}Probe.{httpGet,tcpSocket}.host and
// lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host, in all container kinds.
// Allowed: undefined, "". (Policy v1.34+.)
import type { PodSecurityCheck } from '../check.js';
import { asString, describeContainers, joinQuote, pluralize, sortedUnique } from '../pod-view.js';
import { asJsonObject, type JsonObject } from '../../../foundation/json-object.js';

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const LIFECYCLE_HANDLERS = ['postStart', 'preStop'] as const;
const HANDLER_KINDS = ['httpGet', 'tcpSocket'] as const;

export const hostProbesAndHostLifecycleCheck: PodSecurityCheck = {
  id: 'hostProbesAndHostLifecycle',
  level: 'baseline',
  sinceMinor: 34,
  evaluate(pod) {
    const badContainers: string[] = [];
    const hosts: string[] = [];
    const paths: string[] = [];
    for (const container of pod.containers) {
      const handlers: Array<[JsonObject | undefined, string]> = [
        ...PROBES.map((p): [JsonObject | undefined, string] => [asJsonObject(container.raw[p]), `${container.path}.${p}`]),
        ...LIFECYCLE_HANDLERS.map((h): [JsonObject | undefined, string] => [
          asJsonObject(asJsonObject(container.raw['lifecycle'])?.[h]),
          `${container.path}.lifecycle.${h}`,
        ]),
      ];
      let containerIsBad = false;
      for (const [handler, handlerPath] of handlers) {
        for (const kind of HANDLER_KINDS) {
          const host = asString(asJsonObject(handler?.[kind])?.['host']) ?? '';
          if (host !== '') {
            containerIsBad = true;
            hosts.push(host);
            paths.push(`${handlerPath}.${kind}.host`);
          }
        }
      }
      if (containerIsBad) {
        badContainers.push(container.name);
      }
    }
    if (badContainers.length === 0) {
      return null;
    }
    const uniqueHosts = sortedUnique(hosts);
    return {
      reason: 'probe or lifecycle host',
      message: `${describeContainers(sortedUnique(badContainers))} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', uniqueHosts.length)} ${joinQuote(uniqueHosts)} (remove the host field)`,
      paths,
    };
  },
};
