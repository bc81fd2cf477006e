"""CloudWatch alarms, SNS topics, STS credentials and the Resource Groups Tagging API."""

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from emu_helpers import error_of, model, query, signed

ALARM = dict(MetricName='m', Namespace='AWS/SageMaker', Statistic='Average', Period=60,
             EvaluationPeriods=2, Threshold=1.0, ComparisonOperator='GreaterThanThreshold')


@pytest.fixture
def cw(aws):
    return aws('cloudwatch')


@pytest.fixture
def sns(aws):
    return aws('sns')


# -- CloudWatch ---------------------------------------------------------------------------------

def test_put_metric_alarm_overwrites_and_keeps_tags(emu, cw):
    cw.put_metric_alarm(AlarmName='a', Tags=[{'Key': 'owner', 'Value': 'plumb'}],
                        AlarmDescription='first', AlarmActions=['arn:aws:sns:us-east-1:123456789012:t'],
                        **ALARM)
    arn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a'
    first = cw.describe_alarms(AlarmNames=['a'])['MetricAlarms'][0]
    assert first['AlarmArn'] == arn and first['StateValue'] == 'INSUFFICIENT_DATA'
    cw.put_metric_alarm(AlarmName='a', Tags=[{'Key': 'other', 'Value': 'x'}],
                        **dict(ALARM, Threshold=5.0))
    second = cw.describe_alarms(AlarmNames=['a'])['MetricAlarms'][0]
    assert second['Threshold'] == 5.0
    assert 'AlarmDescription' not in second and second['AlarmActions'] == []  # full overwrite
    assert cw.list_tags_for_resource(ResourceARN=arn)['Tags'] == [{'Key': 'owner',
                                                                   'Value': 'plumb'}]
    cw.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v'}])
    cw.untag_resource(ResourceARN=arn, TagKeys=['owner'])
    assert cw.list_tags_for_resource(ResourceARN=arn)['Tags'] == [{'Key': 'k', 'Value': 'v'}]
    with pytest.raises(ClientError) as e:
        cw.list_tags_for_resource(ResourceARN=arn + 'x')
    assert error_of(e)[0::2] == ('ResourceNotFoundException', 404)


def test_describe_alarms_filters_and_paging(emu, cw):
    for i in range(130):
        cw.put_metric_alarm(AlarmName='p-%03d' % i, **ALARM)
    cw.put_metric_alarm(AlarmName='q-1', **ALARM)
    page = cw.describe_alarms()
    assert len(page['MetricAlarms']) == 100 and page['NextToken']
    rest = cw.describe_alarms(NextToken=page['NextToken'])
    assert len(rest['MetricAlarms']) == 31 and 'NextToken' not in rest
    names, token, n = [], None, 0
    while n < 20:
        kw = {'AlarmNamePrefix': 'p-', 'MaxRecords': 40}
        if token:
            kw['NextToken'] = token
        r = cw.describe_alarms(**kw)
        names += [a['AlarmName'] for a in r['MetricAlarms']]
        token = r.get('NextToken')
        n += 1
        if not token:
            break
    assert n == 4 and names == ['p-%03d' % i for i in range(130)]
    assert [a['AlarmName'] for a in cw.describe_alarms(AlarmNames=['q-1', 'zzz'])[
        'MetricAlarms']] == ['q-1']
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(AlarmNames=['q-1'], AlarmNamePrefix='p')
    assert error_of(e)[0] == 'InvalidParameterCombination'
    assert cw.describe_alarms(StateValue='ALARM')['MetricAlarms'] == []
    assert cw.describe_alarms(AlarmTypes=['CompositeAlarm'])['MetricAlarms'] == []
    with pytest.raises(ClientError) as e:
        cw.describe_alarms(NextToken='bogus')
    assert error_of(e)[0] == 'InvalidNextToken'


def test_delete_alarms(emu, cw):
    cw.put_metric_alarm(AlarmName='a', **ALARM)
    cw.put_metric_alarm(AlarmName='b', **ALARM)
    cw.delete_alarms(AlarmNames=['a', 'missing'])
    assert [a['AlarmName'] for a in cw.describe_alarms()['MetricAlarms']] == ['b']


def test_alarm_query_xml_shape(emu, cw):
    cw.put_metric_alarm(AlarmName='x', **ALARM)
    r = query(emu.url, 'monitoring', 'DescribeAlarms', '2010-08-01', {'AlarmNames.member.1': 'x'})
    assert r.text.startswith('<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/'
                             'doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms><member>')
    assert '<ResponseMetadata><RequestId>' in r.text
    import re
    assert re.search(r'<StateUpdatedTimestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z<', r.text)


# -- SNS --------------------------------------------------------------------------------------------

def test_sns_topics(emu, sns):
    arn = sns.create_topic(Name='t1', Tags=[{'Key': 'a', 'Value': '1'}])['TopicArn']
    assert arn == 'arn:aws:sns:us-east-1:123456789012:t1'
    assert sns.create_topic(Name='t1')['TopicArn'] == arn  # idempotent
    assert sns.create_topic(Name='t1', Tags=[{'Key': 'a', 'Value': '1'}])['TopicArn'] == arn
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name='t1', Tags=[{'Key': 'a', 'Value': '2'}])
    assert error_of(e) == ('InvalidParameter', 'Invalid parameter: Tags Reason: Topic already '
                           'exists with different tags', 400)
    attrs = sns.get_topic_attributes(TopicArn=arn)['Attributes']
    assert attrs['Owner'] == '123456789012' and json.loads(attrs['Policy'])['Statement']
    sns.set_topic_attributes(TopicArn=arn, AttributeName='DisplayName', AttributeValue='Hi')
    assert sns.get_topic_attributes(TopicArn=arn)['Attributes']['DisplayName'] == 'Hi'
    with pytest.raises(ClientError) as e:
        sns.set_topic_attributes(TopicArn=arn, AttributeName='Bogus', AttributeValue='x')
    assert error_of(e)[0] == 'InvalidParameter'
    sns.tag_resource(ResourceArn=arn, Tags=[{'Key': 'b', 'Value': '2'}])
    sns.untag_resource(ResourceArn=arn, TagKeys=['a'])
    assert sns.list_tags_for_resource(ResourceArn=arn)['Tags'] == [{'Key': 'b', 'Value': '2'}]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # idempotent
    with pytest.raises(ClientError) as e:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(e) == ('NotFound', 'Topic does not exist', 404)
    with pytest.raises(ClientError) as e:
        sns.list_tags_for_resource(ResourceArn=arn)
    assert error_of(e)[0::2] == ('ResourceNotFound', 404)


def test_list_topics_paging(emu, sns):
    for i in range(230):
        sns.create_topic(Name='t%03d' % i)
    arns, token, pages = [], None, 0
    while pages < 10:
        r = sns.list_topics(**({'NextToken': token} if token else {}))
        arns += [t['TopicArn'] for t in r['Topics']]
        pages += 1
        token = r.get('NextToken')
        if not token:
            break
    assert pages == 3 and len(arns) == 230 and len(set(arns)) == 230


# -- STS --------------------------------------------------------------------------------------------

def _jwt(claims):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')  # noqa
    return '%s.%s.sig' % (enc({'alg': 'RS256'}), enc(claims))


def test_web_identity_is_unsigned(emu, aws):
    token = _jwt({'sub': 'system:serviceaccount:plumb:plumb', 'aud': 'sts.amazonaws.com',
                  'iss': 'https://oidc.eks.us-east-1.amazonaws.com/id/X', 'exp': time.time() + 600})
    r = query(emu.url, 'sts', 'AssumeRoleWithWebIdentity', '2011-06-15', {
        'RoleArn': 'arn:aws:iam::123456789012:role/irsa', 'RoleSessionName': 's1',
        'WebIdentityToken': token}, unsigned=True)
    assert r.status == 200, r
    assert '<SubjectFromWebIdentityToken>system:serviceaccount:plumb:plumb<' in r.text
    assert '<AccessKeyId>ASIA' in r.text and '<Expiration>' in r.text
    from botocore import UNSIGNED
    from botocore.config import Config
    sts = aws('sts', config=Config(signature_version=UNSIGNED))
    out = sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::123456789012:role/irsa',
                                            RoleSessionName='s2', WebIdentityToken=token)
    c = out['Credentials']
    assert aws('sts', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c[
        'SecretAccessKey'], aws_session_token=c['SessionToken']).get_caller_identity()[
        'Arn'] == 'arn:aws:sts::123456789012:assumed-role/irsa/s2'
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::123456789012:role/irsa',
                                          RoleSessionName='s3', WebIdentityToken='opaque-token')
    assert error_of(e)[0] == 'InvalidIdentityToken'
    with pytest.raises(ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::123456789012:role/irsa',
                                          RoleSessionName='s3',
                                          WebIdentityToken=_jwt({'exp': time.time() - 5}))
    assert error_of(e)[0] == 'ExpiredTokenException'


def test_assume_role_chaining_limit(emu, aws):
    c = aws('sts').assume_role(RoleArn='arn:aws:iam::123456789012:role/a', RoleSessionName='one',
                               DurationSeconds=7200)['Credentials']
    chained = aws('sts', aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c[
        'SecretAccessKey'], aws_session_token=c['SessionToken'])
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn='arn:aws:iam::123456789012:role/b', RoleSessionName='two',
                            DurationSeconds=7200)
    assert 'role chaining' in error_of(e)[1]
    assert chained.assume_role(RoleArn='arn:aws:iam::123456789012:role/b',
                               RoleSessionName='two')['Credentials']['AccessKeyId']


# -- Resource Groups Tagging API ---------------------------------------------------------------------

def test_get_resources_filters_and_paging(emu, aws, sm, cw, sns):
    tg = aws('resourcegroupstaggingapi')
    for i in range(120):
        model(sm, 'm%03d' % i)
        sm.add_tags(ResourceArn='arn:aws:sagemaker:us-east-1:123456789012:model/m%03d' % i,
                    Tags=[{'Key': 'owner', 'Value': 'plumb' if i % 2 else 'other'}])
    model(sm, 'untagged')
    cw.put_metric_alarm(AlarmName='al', Tags=[{'Key': 'owner', 'Value': 'plumb'}], **ALARM)
    sns.create_topic(Name='tp', Tags=[{'Key': 'owner', 'Value': 'plumb'}])
    everything = tg.get_resources()
    assert len(everything['ResourceTagMappingList']) == 100
    rest = tg.get_resources(PaginationToken=everything['PaginationToken'])
    assert len(rest['ResourceTagMappingList']) == 22 and rest['PaginationToken'] == ''
    mine = tg.get_resources(TagFilters=[{'Key': 'owner', 'Values': ['plumb']}],
                            ResourcesPerPage=50)
    assert len(mine['ResourceTagMappingList']) == 50
    more = tg.get_resources(TagFilters=[{'Key': 'owner', 'Values': ['plumb']}],
                            ResourcesPerPage=50, PaginationToken=mine['PaginationToken'])
    assert len(more['ResourceTagMappingList']) == 12
    kinds = {'sagemaker:model': 120, 'sagemaker': 120, 'cloudwatch:alarm': 1, 'sns': 1,
             'sagemaker:endpoint': 0}
    for f, n in kinds.items():
        got = tg.get_resources(ResourceTypeFilters=[f], ResourcesPerPage=100)
        total = len(got['ResourceTagMappingList'])
        if got['PaginationToken']:
            total += len(tg.get_resources(ResourceTypeFilters=[f], ResourcesPerPage=100,
                                          PaginationToken=got['PaginationToken'])[
                'ResourceTagMappingList'])
        assert total == n, f
    assert len(tg.get_resources(TagFilters=[{'Key': 'owner'}], ResourceTypeFilters=[
        'cloudwatch:alarm', 'sns'])['ResourceTagMappingList']) == 2
    with pytest.raises(ClientError) as e:
        tg.get_resources(ResourcesPerPage=101)
    assert error_of(e)[0] == 'InvalidParameterException'
    with pytest.raises(ClientError) as e:
        tg.get_resources(PaginationToken='bogus')
    assert error_of(e)[0] == 'PaginationTokenExpiredException'
    r = signed(emu.url, {}, 'tagging', target='ResourceGroupsTaggingAPI_20170126.GetResources',
               scope_service='resourcegroupstaggingapi')
    assert r.status == 400 and 'correct service' in r.json['message']
