import { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'chai';
import { currentHandlerContext, type HandlerContext } from '../src/index.js';
import { FRAME_BASED, HandlerContextScope } from '../src/handler/handler-context-storage.js';

// Only the fields these tests read; the scope never looks inside a context.
const contextOf = (id: string): HandlerContext => ({ handler: id }) as unknown as HandlerContext;
const other = new AsyncLocalStorage<string>();

describe('HandlerContextScope (where attempts enter their handler context)', () => {
  for (const inherit of [false, true]) {
    describe(inherit ? 'inheriting the caller context (interceptors installed)' : 'from the scope’s own context', () => {
      it('makes the context current for the handler, also after an await, and restores the caller’s afterwards', async () => {
        const scope = new HandlerContextScope(inherit);
        const seen: (string | undefined)[] = [];
        const running = scope.run(contextOf('a'), async (context) => {
          seen.push(currentHandlerContext()?.handler);
          await new Promise((resolve) => setImmediate(resolve));
          seen.push(currentHandlerContext()?.handler);
          expect(currentHandlerContext()).to.equal(context);
        });
        expect(currentHandlerContext()).to.equal(undefined);
        await running;
        expect(seen).to.deep.equal(['a', 'a']);
      });

      it('keeps concurrent attempts apart and leaves a caller’s other stores in place after each', async () => {
        const scope = new HandlerContextScope(inherit);
        await other.run('caller', async () => {
          const seen: (string | undefined)[] = [];
          const one = scope.run(contextOf('1'), async () => {
            await new Promise((resolve) => setImmediate(resolve));
            seen.push(currentHandlerContext()?.handler);
          });
          expect(other.getStore()).to.equal('caller');
          const two = scope.run(contextOf('2'), async () => {
            seen.push(currentHandlerContext()?.handler);
            await new Promise((resolve) => setImmediate(resolve));
            seen.push(currentHandlerContext()?.handler);
          });
          expect([other.getStore(), currentHandlerContext()]).to.deep.equal(['caller', undefined]);
          await Promise.all([one, two]);
          expect(seen.sort()).to.deep.equal(['1', '2', '2']);
        });
      });
    });
  }

  it('inheriting, the handler sees what the caller made current (an interceptor’s span); not inheriting, what was current when the scope was made (frame-based runtimes; elsewhere it inherits)', async () => {
    const own = other.run('at start', () => new HandlerContextScope(false));
    const inheriting = other.run('at start', () => new HandlerContextScope(true));
    const seen = await other.run('interceptor', async () => [
      await own.run(contextOf('x'), () => Promise.resolve(other.getStore())),
      await inheriting.run(contextOf('y'), () => Promise.resolve(other.getStore())),
    ]);
    expect(seen).to.deep.equal([FRAME_BASED ? 'at start' : 'interceptor', 'interceptor']);
  });
});
