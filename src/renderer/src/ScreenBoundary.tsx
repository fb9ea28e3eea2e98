import { Alert, Button, Group, Text } from '@mantine/core';
import { Component, type ReactNode } from 'react';

interface Props {
  /** The screen's name, for the message. */
  what: string;
  /** Called by "Try again" before the screen is drawn anew (e.g. to import its code again). */
  onRetry?: () => void;
  children: ReactNode;
}

/**
 * A screen that fails to draw, or whose code cannot be fetched (the server gone, or DermFuse updated under an open
 * tab), says so in place of itself with a way back, instead of leaving the whole window blank.
 */
export class ScreenBoundary extends Component<Props, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const fetchFailed = /dynamically imported module|Failed to fetch|Loading chunk|Importing a module script failed/i.test(error.message);
    return (
      <Alert color="red" m="md" title={`${this.props.what} could not be shown`} data-testid="screen-error">
        <Text size="sm">
          {fetchFailed
            ? 'Its code could not be loaded: the DermFuse server may be unreachable, or DermFuse was updated since this page opened.'
            : `Something went wrong drawing it: ${error.message}`}
        </Text>
        <Group mt="xs" gap="xs">
          <Button
            size="xs"
            onClick={() => {
              this.props.onRetry?.();
              this.setState({ error: null });
            }}
            data-testid="screen-retry"
          >
            Try again
          </Button>
          <Button size="xs" variant="default" onClick={() => window.location.reload()} data-testid="screen-reload">
            Reload the page
          </Button>
        </Group>
      </Alert>
    );
  }
}
