/// The rules the sensor ships with, kept as Kibana rule JSON so they load
/// through the same path as rules exported from Kibana.
public enum BuiltinRules {
    /// Elastic's prebuilt rule "Namespace Manipulation Using Unshare",
    /// version 9, with its query unchanged.
    public static let namespaceManipulationUsingUnshare = #"""
        {
          "rule_id": "d00f33e7-b57d-4023-9952-2db91b1767c4",
          "name": "Namespace Manipulation Using Unshare",
          "version": 9,
          "description": "Identifies suspicious usage of unshare to manipulate system namespaces. Unshare can be utilized to escalate privileges or escape container security boundaries. Threat actors have utilized this binary to allow themselves to escape to the host and access other resources or escalate privileges.",
          "severity": "medium",
          "risk_score": 47,
          "type": "eql",
          "language": "eql",
          "index": ["auditbeat-*", "logs-endpoint.events.*", "endgame-*"],
          "interval": "5m",
          "from": "now-9m",
          "max_signals": 100,
          "author": ["Elastic"],
          "license": "Elastic License v2",
          "tags": [
            "Domain: Endpoint",
            "OS: Linux",
            "Use Case: Threat Detection",
            "Tactic: Privilege Escalation",
            "Data Source: Elastic Endgame",
            "Data Source: Elastic Defend"
          ],
          "references": [
            "https://man7.org/linux/man-pages/man1/unshare.1.html",
            "https://www.crowdstrike.com/blog/cve-2022-0185-kubernetes-container-escape-using-linux-kernel-exploit/"
          ],
          "threat": [
            {
              "framework": "MITRE ATT&CK",
              "tactic": {
                "id": "TA0004",
                "name": "Privilege Escalation",
                "reference": "https://attack.mitre.org/tactics/TA0004/"
              },
              "technique": [
                {
                  "id": "T1543",
                  "name": "Create or Modify System Process",
                  "reference": "https://attack.mitre.org/techniques/T1543/"
                }
              ]
            }
          ],
          "query": "process where host.os.type == \"linux\" and event.type == \"start\" and event.action : (\"exec\", \"exec_event\") and\nprocess.executable: \"/usr/bin/unshare\" and\nnot process.parent.executable: (\"/usr/bin/udevadm\", \"*/lib/systemd/systemd-udevd\", \"/usr/bin/unshare\") and\nnot process.args == \"/usr/bin/snap\" and not process.parent.name in (\"zz-proxmox-boot\", \"java\")"
        }
        """#

    /// A later revision of the same rule, as in elastic/detection-rules
    /// with `updated_date` 2025/12/23, with its query unchanged. It also
    /// accepts `event.action` `start`. Its exclusions are regrouped, so the
    /// parent names `java` and `zz-proxmox-boot` only cancel the snap
    /// exclusion, and it excludes parents whose arguments match `like`
    /// patterns.
    // NOTE: version 10 is assumed; the version lock seen for this rule
    // stops at 9, so the number Kibana shows for this revision may differ.
    public static let namespaceManipulationUsingUnshareParentArgs = #"""
        {
          "rule_id": "d00f33e7-b57d-4023-9952-2db91b1767c4",
          "name": "Namespace Manipulation Using Unshare",
          "version": 10,
          "description": "Identifies suspicious usage of unshare to manipulate system namespaces. Unshare can be utilized to escalate privileges or escape container security boundaries. Threat actors have utilized this binary to allow themselves to escape to the host and access other resources or escalate privileges.",
          "severity": "medium",
          "risk_score": 47,
          "type": "eql",
          "language": "eql",
          "index": ["auditbeat-*", "endgame-*", "logs-endpoint.events.process*", "logs-sentinel_one_cloud_funnel.*"],
          "interval": "5m",
          "from": "now-9m",
          "max_signals": 100,
          "author": ["Elastic"],
          "license": "Elastic License v2",
          "tags": [
            "Domain: Endpoint",
            "OS: Linux",
            "Platform: Linux",
            "Data Source: Elastic Endgame",
            "Data Source: Elastic Defend",
            "Data Source: SentinelOne",
            "Rule Type: Event Correlation (EQL)",
            "Tactic: Privilege Escalation",
            "Resources: Investigation Guide"
          ],
          "references": [
            "https://man7.org/linux/man-pages/man1/unshare.1.html",
            "https://www.crowdstrike.com/blog/cve-2022-0185-kubernetes-container-escape-using-linux-kernel-exploit/"
          ],
          "threat": [
            {
              "framework": "MITRE ATT&CK",
              "tactic": {
                "id": "TA0004",
                "name": "Privilege Escalation",
                "reference": "https://attack.mitre.org/tactics/TA0004/"
              },
              "technique": [
                {
                  "id": "T1543",
                  "name": "Create or Modify System Process",
                  "reference": "https://attack.mitre.org/techniques/T1543/"
                }
              ]
            }
          ],
          "query": "process where host.os.type == \"linux\" and event.type == \"start\" and event.action : (\"exec\", \"exec_event\", \"start\") and\nprocess.executable: \"/usr/bin/unshare\" and not (\n  process.parent.executable: (\"/usr/bin/udevadm\", \"*/lib/systemd/systemd-udevd\", \"/usr/bin/unshare\") or\n  process.args == \"/usr/bin/snap\" and not process.parent.name in (\"zz-proxmox-boot\", \"java\") or\n  process.parent.args like (\n    \"/etc/kernel/postinst.d/zz-proxmox-boot\", \"/opt/openssh/sbin/sshd\", \"/usr/sbin/sshd\",\n    \"/snap/*\", \"/home/*/.local/share/JetBrains/Toolbox/*\"\n  )\n)"
        }
        """#

    /// Every built-in rule, as Kibana rule JSON.
    public static let json: [String] = [
        namespaceManipulationUsingUnshare, namespaceManipulationUsingUnshareParentArgs,
    ]

    /// Parses the built-in rules.
    public static func load() throws(RuleError) -> [DetectionRule] {
        var rules: [DetectionRule] = []
        for text in json {
            rules.append(try DetectionRule(json: text))
        }
        return rules
    }

    /// Parses and compiles the built-in rules against `catalog`.
    public static func compiled(catalog: FieldCatalog = .sensor) throws(RuleError) -> [CompiledRule] {
        var compiled: [CompiledRule] = []
        for rule in try load() {
            compiled.append(try rule.compile(catalog: catalog))
        }
        return compiled
    }
}
