"""The IAM proof's parts: which function is running, what each AWS call needs, what the template allows.

moto and DynamoDB Local check no IAM. The tests record every AWS call a function makes
(`recorder`), turn it into the IAM actions and resources it needs (`calls`) and compare those with the
function's policies in template.yaml (`policies`); tests/fixtures/iam.py runs the check at session end.
"""
