// routeKhaltiWidget's files: the installed khalti-checkout-web, a given widgetDist, or a start-up error
// that says what to install.
import path from 'node:path';
import { widgetDistFolder } from '../../lib/sandbox/widget-routes';

describe('routeKhaltiWidget finds the widget', () => {
  it('uses the installed khalti-checkout-web by default', () => {
    expect(widgetDistFolder()).toBe(path.dirname(require.resolve('khalti-checkout-web/dist/khalti-checkout.iffe.js')));
  });

  it('says what to install, or that widgetDist can be passed, when the package is missing', () => {
    const missing = (id: string): string => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => widgetDistFolder(undefined, missing)).toThrow(/npm install --save-dev khalti-checkout-web.*widgetDist/);
    expect(() => widgetDistFolder(undefined, missing)).not.toThrow(/Cannot find module/);
  });

  it('takes a widgetDist that holds the widget, and refuses one that does not', () => {
    const dist = widgetDistFolder();
    expect(widgetDistFolder(dist)).toBe(dist);
    expect(() => widgetDistFolder(__dirname)).toThrow(/widgetDist.*khalti-checkout-web/);
  });
});
