import { observeBreaker, promClient } from '../src';

const series = async () => (await promClient.register.metrics()).split('\n').filter((l) => l.startsWith('banyan_breaker_state{'));

test('banyan_breaker_state reads each observed breaker at scrape time: 0 closed, 1 half-open, 2 open; a stopped one disappears', async () => {
  const payments = { opened: false, halfOpen: false };
  const products = { opened: true, halfOpen: false };
  observeBreaker('payments-service', payments);
  const stop = observeBreaker('products-service', products);
  expect(await series()).toEqual(['banyan_breaker_state{breaker="payments-service"} 0', 'banyan_breaker_state{breaker="products-service"} 2']);

  payments.halfOpen = true;
  stop();
  expect(await series()).toEqual(['banyan_breaker_state{breaker="payments-service"} 1']);
});

test('a rebuilt client\'s breaker of the same name replaces the old one', async () => {
  observeBreaker('payments-service', { opened: true, halfOpen: false });
  expect(await series()).toEqual(['banyan_breaker_state{breaker="payments-service"} 2']);
});
