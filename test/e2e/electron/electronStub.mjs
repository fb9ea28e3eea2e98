// A stand-in for the `electron` module that records what the main bundle asks of it: window options, session and
// protocol handlers, IPC handlers. It opens no window; the harness plays the part of Chromium's side.
export const recorded = {
  sandbox: false,
  schemes: [],
  windows: [],
  protocols: new Map(),
  ipc: new Map(),
  headersListener: null,
  permissionRequest: null,
  permissionCheck: null,
  openExternal: [],
  appEvents: new Map(),
};

export const app = {
  enableSandbox() {
    recorded.sandbox = true;
  },
  whenReady() {
    return Promise.resolve();
  },
  on(event, fn) {
    recorded.appEvents.set(event, fn);
  },
  quit() {},
  getPath() {
    return process.env.DERMFUSE_HARNESS_USERDATA;
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    recorded.schemes.push(...schemes);
  },
  handle(scheme, handler) {
    recorded.protocols.set(scheme, handler);
  },
};

export const ipcMain = {
  handle(channel, handler) {
    recorded.ipc.set(channel, handler);
  },
};

export const session = {
  defaultSession: {
    webRequest: {
      onHeadersReceived(fn) {
        recorded.headersListener = fn;
      },
    },
    setPermissionRequestHandler(fn) {
      recorded.permissionRequest = fn;
    },
    setPermissionCheckHandler(fn) {
      recorded.permissionCheck = fn;
    },
  },
};

/**
 * The system's open dialog, answered as a person would: DERMFUSE_HARNESS_DIALOG holds {"folder": path, "file": path};
 * a dialog asking for a file with a CSV filter gets the file, one asking for a folder the folder, anything else (or
 * no answer set) is cancelled.
 */
export const dialog = {
  async showOpenDialog(options) {
    const answers = JSON.parse(process.env.DERMFUSE_HARNESS_DIALOG ?? '{}');
    const props = options?.properties ?? [];
    const csv = (options?.filters ?? []).some((f) => f.extensions.includes('csv'));
    const chosen = props.includes('openDirectory') ? answers.folder : props.includes('openFile') && csv ? answers.file : undefined;
    return chosen ? { canceled: false, filePaths: [chosen] } : { canceled: true, filePaths: [] };
  },
};

export const shell = {
  async openExternal(url) {
    recorded.openExternal.push(url);
  },
};

export class BrowserWindow {
  static getAllWindows() {
    return recorded.windows;
  }

  constructor(options) {
    this.options = options;
    this.loadedUrl = null;
    const listeners = {};
    this.webContents = {
      listeners,
      windowOpenHandler: null,
      setWindowOpenHandler: (handler) => {
        this.webContents.windowOpenHandler = handler;
      },
      on: (event, fn) => {
        (listeners[event] ??= []).push(fn);
      },
    };
    recorded.windows.push(this);
  }

  loadURL(url) {
    this.loadedUrl = url;
    return Promise.resolve();
  }
}

export default { app, protocol, ipcMain, session, dialog, shell, BrowserWindow };
