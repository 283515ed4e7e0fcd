#!/usr/bin/env python3
"""Lists a group's inbound rules through botocore (an independent client), as
JSON: [{"id", "cidr", "description", "tags"}]. Usage: ENDPOINT KEY SECRET GROUP"""
import json
import sys

import botocore.session

endpoint, key, secret, group = sys.argv[1:5]
ec2 = botocore.session.get_session().create_client(
    "ec2", region_name="us-east-1", endpoint_url=endpoint,
    aws_access_key_id=key, aws_secret_access_key=secret)
rules = ec2.describe_security_group_rules(
    Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
print(json.dumps([{"id": r["SecurityGroupRuleId"], "cidr": r.get("CidrIpv4") or r.get("CidrIpv6", ""),
                   "description": r.get("Description", ""),
                   "tags": {t["Key"]: t["Value"] for t in r.get("Tags", [])}}
                  for r in rules if not r["IsEgress"]]), flush=True)
