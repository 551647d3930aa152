import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/aws/app.ts';

const { app } = buildApp();
// cdk-nag v3 runs as a policy-validation plugin: findings fail `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
