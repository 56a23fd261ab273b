// The processor is a third party: its interface and test-card fake live in their own package so
// this module and the extracted payments service talk to the same one without a copy.
export { testCardProcessor, luhnValid, type CardProcessor, type ChargeRequest, type ChargeResult } from '@banyan/card-processor';
