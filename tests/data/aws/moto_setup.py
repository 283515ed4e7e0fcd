#!/usr/bin/env python3
"""Prepares a moto_server (started with INITIAL_NO_AUTH_ACTION_COUNT) for the
AWS client tests and prints what it made as one JSON line.

Makes, in exactly SETUP_CALLS (12) unauthenticated calls: a VPC, two security
groups, one hand-made inbound rule, an IAM user holding the policy given on
the command line plus an access key, a second user whose policy lacks
ec2:ModifySecurityGroupRules plus its key, and a role the first user may
assume (with the same EC2 policy).

Usage: moto_setup.py ENDPOINT ACTION[,ACTION...]
"""
import json
import sys

import botocore.session

SETUP_CALLS = 12

endpoint, actions = sys.argv[1], sys.argv[2].split(",")
session = botocore.session.get_session()
kw = dict(region_name="us-east-1", endpoint_url=endpoint,
          aws_access_key_id="AKIASETUP0000000000", aws_secret_access_key="setup")
ec2 = session.create_client("ec2", **kw)
iam = session.create_client("iam", **kw)


def policy(allowed):
    return json.dumps({"Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]})


vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]                       # 1
sg1 = ec2.create_security_group(GroupName="pinhole-a", Description="a", VpcId=vpc)["GroupId"]  # 2
sg2 = ec2.create_security_group(GroupName="pinhole-b", Description="b", VpcId=vpc)["GroupId"]  # 3
hand = ec2.authorize_security_group_ingress(                                               # 4
    GroupId=sg1, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                 "IpRanges": [{"CidrIp": "192.0.2.0/24", "Description": "office"}]}])
hand_id = hand["SecurityGroupRules"][0]["SecurityGroupRuleId"]

iam.create_user(UserName="pinhole")                                                        # 5
iam.put_user_policy(UserName="pinhole", PolicyName="pinhole",                              # 6
                    PolicyDocument=policy(actions + ["sts:AssumeRole"]))
key = iam.create_access_key(UserName="pinhole")["AccessKey"]                               # 7

iam.create_user(UserName="partial")                                                        # 8
iam.put_user_policy(UserName="partial", PolicyName="partial",                              # 9
                    PolicyDocument=policy([a for a in actions if a != "ec2:ModifySecurityGroupRules"]))
partial = iam.create_access_key(UserName="partial")["AccessKey"]                           # 10

trust = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/pinhole"},
    "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="pinhole-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]  # 11
iam.put_role_policy(RoleName="pinhole-role", PolicyName="ec2",                             # 12
                    PolicyDocument=policy(actions))

print(json.dumps({"vpc": vpc, "sg1": sg1, "sg2": sg2, "hand_rule": hand_id,
                  "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"],
                  "partial_key_id": partial["AccessKeyId"], "partial_secret": partial["SecretAccessKey"],
                  "role_arn": role}), flush=True)
